// Pure: the layouts a running kernel publishes in tracefs (events/header_page, an event's `format`).

/** How one event field is stored in a raw record. */
export type FieldKind =
  /** An integer of 1, 2, 4 or 8 bytes (or a pointer). */
  | 'int'
  /** `__data_loc`: a u32 whose low 16 bits are the offset from the record start, high 16 the length. */
  | 'data_loc'
  /** `__rel_loc` (Linux ≥ 5.18): like data_loc, the offset counted from the end of the u32. */
  | 'rel_loc'
  /** A fixed-size array (`char comm[16]`, `__u8 saddr[4]`). */
  | 'array';

export interface FieldLayout {
  name: string;
  offset: number;
  size: number;
  signed: boolean;
  kind: FieldKind;
}

/** One event's `format` file. */
export interface EventFormat {
  system: string;
  name: string;
  /** The `common_type` value records of this event carry. */
  id: number;
  fields: Map<string, FieldLayout>;
}

const FIELD_LINE = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/;
const DECLARED_NAME = /(\w+)\s*(\[[^\]]*\])?\s*$/;

/** Parses an event's `format` file; throws on text that is not one. */
export function parseEventFormat(text: string, system = ''): EventFormat {
  const name = /^name:\s*(\S+)/m.exec(text)?.[1];
  const id = /^ID:\s*(\d+)/m.exec(text)?.[1];
  if (name === undefined || id === undefined) throw new Error('not an event format (no name or ID line)');
  const fields = new Map<string, FieldLayout>();
  for (const line of text.split('\n')) {
    const m = FIELD_LINE.exec(line);
    if (!m) continue;
    const declaration = (m[1] ?? '').trim();
    const declared = DECLARED_NAME.exec(declaration);
    if (!declared) continue;
    const fieldName = declared[1] ?? '';
    const kind: FieldKind = declaration.startsWith('__data_loc')
      ? 'data_loc'
      : declaration.startsWith('__rel_loc')
        ? 'rel_loc'
        : declared[2] !== undefined
          ? 'array'
          : 'int';
    fields.set(fieldName, { name: fieldName, offset: Number(m[2]), size: Number(m[3]), signed: m[4] === '1', kind });
  }
  return { system, name, id: Number(id), fields };
}

/** Where a ring-buffer page keeps its header fields and its data (events/header_page). */
export interface PageLayout {
  timestampOffset: number;
  commitOffset: number;
  /** 8 on 64-bit kernels (local_t), 4 on 32-bit ones. */
  commitSize: number;
  dataOffset: number;
  /** Bytes of event data a page holds; dataOffset + dataSize is the page size. */
  dataSize: number;
}

/** Parses events/header_page; throws when a field the reader needs is missing. */
export function parsePageLayout(text: string): PageLayout {
  const fields = parseEventFormat(`name: header_page\nID: 0\n${text}`).fields;
  const need = (name: string): FieldLayout => {
    const f = fields.get(name);
    if (!f) throw new Error(`events/header_page has no '${name}' field`);
    return f;
  };
  const timestamp = need('timestamp');
  const commit = need('commit');
  const data = need('data');
  if (timestamp.size !== 8) throw new Error(`events/header_page timestamp is ${timestamp.size} bytes, not 8`);
  if (commit.size !== 4 && commit.size !== 8) throw new Error(`events/header_page commit is ${commit.size} bytes`);
  return {
    timestampOffset: timestamp.offset,
    commitOffset: commit.offset,
    commitSize: commit.size,
    dataOffset: data.offset,
    dataSize: data.size,
  };
}

/** The record header's special type_len values (events/header_event). */
export interface EventHeaderLayout {
  padding: number;
  timeExtend: number;
  timeStamp: number;
  /** type_len values 1..this hold the data length in 4-byte words. */
  maxDataTypeLen: number;
}

/** Parses events/header_event; throws unless it describes the 5-bit type_len / 27-bit delta header. */
export function parseEventHeaderLayout(text: string): EventHeaderLayout {
  const bits = (name: string): number | undefined => {
    const m = new RegExp(`^\\s*${name}\\s*:\\s*(\\d+) bits`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const type = (name: string): number | undefined => {
    const m = new RegExp(`^\\s*${name}\\s*:\\s*type == (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  if (bits('type_len') !== 5 || bits('time_delta') !== 27) {
    throw new Error('events/header_event does not describe a 5-bit type_len and a 27-bit time_delta');
  }
  const padding = type('padding');
  const timeExtend = type('time_extend');
  const timeStamp = type('time_stamp');
  const maxData = /data max type_len\s*==\s*(\d+)/.exec(text)?.[1];
  if (padding === undefined || timeExtend === undefined || timeStamp === undefined || maxData === undefined) {
    throw new Error('events/header_event lacks the padding, time_extend, time_stamp or data max type_len line');
  }
  return { padding, timeExtend, timeStamp, maxDataTypeLen: Number(maxData) };
}
