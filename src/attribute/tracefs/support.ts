// What the running kernel's tracefs offers the raw reader: layouts, event formats, and what is missing.

import { access, readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import path from 'node:path';
import {
  parseEventFormat,
  parseEventHeaderLayout,
  parsePageLayout,
  type EventFormat,
  type EventHeaderLayout,
  type PageLayout,
} from './format.js';
import { REQUIRED_SOCK_FIELDS, type TraceFormats } from './record-decoder.js';

/** The events the finder enables, by their tracefs directory. */
export const TRACE_EVENTS = {
  sockState: 'sock/inet_sock_set_state',
  exec: 'sched/sched_process_exec',
  fork: 'sched/sched_process_fork',
  cgroupAttach: 'cgroup/cgroup_attach_task',
  print: 'ftrace/print',
} as const;

/** Everything needed to decode the instance's ring buffers, or what is missing. */
export interface TracefsSupport {
  missing: string[];
  /** Optional features absent (said on the start line). */
  notes: string[];
  page: PageLayout | null;
  header: EventHeaderLayout | null;
  formats: TraceFormats | null;
  hasProtocolField: boolean;
}

/** Reads the layouts and formats under `root` and lists what the raw reader would lack. */
export async function checkTracefsSupport(root: string): Promise<TracefsSupport> {
  const missing: string[] = [];
  const notes: string[] = [];
  if (endianness() !== 'LE') missing.push('a little-endian CPU (raw trace records are read as little-endian)');
  const read = (file: string): Promise<string | null> => readFile(path.join(root, file), 'utf8').catch(() => null);
  const exists = (p: string): Promise<boolean> => access(path.join(root, p)).then(() => true, () => false);

  let page: PageLayout | null = null;
  let header: EventHeaderLayout | null = null;
  try {
    const text = await read('events/header_page');
    if (text === null) throw new Error('events/header_page is missing');
    page = parsePageLayout(text);
    const eventText = await read('events/header_event');
    if (eventText === null) throw new Error('events/header_event is missing');
    header = parseEventHeaderLayout(eventText);
  } catch (err) {
    missing.push((err as Error).message);
  }

  const format = async (key: keyof typeof TRACE_EVENTS): Promise<EventFormat | null> => {
    const dir = TRACE_EVENTS[key];
    const text = await read(`events/${dir}/format`);
    if (text === null) return null;
    try {
      return parseEventFormat(text, dir.split('/')[0]);
    } catch {
      return null;
    }
  };
  const sockState = await format('sockState');
  if (!sockState) missing.push(`event sock:inet_sock_set_state (events/${TRACE_EVENTS.sockState})`);
  else for (const f of REQUIRED_SOCK_FIELDS) if (!sockState.fields.has(f)) missing.push(`field inet_sock_set_state.${f}`);
  if (!(await exists('instances'))) missing.push('instances/ directory (kernel without tracefs instances)');

  const exec = await format('exec');
  if (!exec) notes.push('sched_process_exec unavailable: exited processes get no exe');
  const fork = await format('fork');
  if (!fork) notes.push('sched_process_fork unavailable: exited processes get no ppid');
  const cgroupAttach = await format('cgroupAttach');
  if (!cgroupAttach) notes.push('cgroup_attach_task unavailable: a container process that exits at once may lose its container id');
  const print = await format('print');

  const formats: TraceFormats | null =
    sockState && missing.length === 0
      ? {
          sockState,
          ...(exec ? { exec } : {}),
          ...(fork ? { fork } : {}),
          ...(cgroupAttach ? { cgroupAttach } : {}),
          ...(print ? { print } : {}),
        }
      : null;
  return { missing, notes, page, header, formats, hasProtocolField: sockState?.fields.has('protocol') ?? false };
}
