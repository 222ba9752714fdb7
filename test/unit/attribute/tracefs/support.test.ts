import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkTracefsSupport } from '../../../../src/attribute/tracefs/support.js';
import { recordedKernels } from '../../../helpers/recorded-tracefs.js';
import { fixturePath } from '../fixtures.js';

const made: string[] = [];
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const KERNEL = '6.18.44-fc-v1272';

/** A copy of a recorded tracefs tree, changed by `edit`. */
function variant(edit: (root: string) => void): string {
  const root = mkdtempSync(path.join(tmpdir(), 'imds-fake-tracefs-'));
  made.push(root);
  cpSync(fixturePath('tracefs', KERNEL), root, { recursive: true });
  edit(root);
  return root;
}
const SOCK_FORMAT = 'events/sock/inet_sock_set_state/format';

describe('checkTracefsSupport', () => {
  for (const kernel of recordedKernels()) {
    it(`${kernel}: nothing missing, every event format read`, async () => {
      const support = await checkTracefsSupport(fixturePath('tracefs', kernel));
      expect(support.missing).toEqual([]);
      expect(support.hasProtocolField).toBe(true);
      expect(Object.keys(support.formats ?? {}).sort()).toEqual(['cgroupAttach', 'exec', 'fork', 'print', 'sockState']);
      expect(support.notes).toEqual([]);
    });
  }

  it.each([
    ['no sock event', (r: string) => rmSync(path.join(r, SOCK_FORMAT)), /event sock:inet_sock_set_state/],
    ['no skaddr field', (r: string) => edit(r, SOCK_FORMAT, (t) => t.replace(/\tfield:const void \* skaddr;[^\n]*\n/, '')), /field inet_sock_set_state\.skaddr/],
    ['no header_page', (r: string) => rmSync(path.join(r, 'events/header_page')), /header_page is missing/],
    ['a header_event of another shape', (r: string) => edit(r, 'events/header_event', (t) => t.replace('5 bits', '6 bits')), /5-bit type_len/],
    ['no instances', (r: string) => rmSync(path.join(r, 'instances'), { recursive: true }), /instances\/ directory/],
  ])('%s → says what is missing', async (_name, change, message) => {
    const support = await checkTracefsSupport(variant(change));
    expect(support.missing.join(', ')).toMatch(message);
    expect(support.formats).toBeNull();
  });

  it.each([
    ['no protocol field', (r: string) => edit(r, SOCK_FORMAT, (t) => t.replace(/\tfield:__u16 protocol;[^\n]*\n/, '')), { hasProtocolField: false }, null],
    ['no cgroup_attach_task', (r: string) => rmSync(path.join(r, 'events/cgroup'), { recursive: true }), {}, /cgroup_attach_task unavailable/],
    ['no sched events', (r: string) => rmSync(path.join(r, 'events/sched'), { recursive: true }), {}, /sched_process_exec unavailable.*sched_process_fork unavailable/],
  ])('optional: %s', async (_name, change, expected, note) => {
    const support = await checkTracefsSupport(variant(change));
    expect(support.missing).toEqual([]);
    expect(support).toMatchObject(expected);
    if (note) expect(support.notes.join('; ')).toMatch(note);
  });
});

function edit(root: string, rel: string, change: (text: string) => string): void {
  const file = path.join(root, rel);
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, change(text));
}
