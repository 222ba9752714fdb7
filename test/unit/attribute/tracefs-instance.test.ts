import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkTracefsSupport } from '../../../src/attribute/tracefs-instance.js';
import { fixtureText } from './fixtures.js';

const REAL_FORMAT = fixtureText('tracefs', 'inet_sock_set_state.format');
const made: string[] = [];
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A fake tracefs root with only the files the support check looks at. */
function fakeTracefs(opts: { format?: string | null; options?: string[]; instances?: boolean; sched?: string[] }): string {
  const root = mkdtempSync(path.join(tmpdir(), 'imds-fake-tracefs-'));
  made.push(root);
  const put = (rel: string, text = ''): void => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  };
  if (opts.format !== null) put('events/sock/inet_sock_set_state/format', opts.format ?? REAL_FORMAT);
  for (const o of opts.options ?? ['fields', 'record-tgid']) put(`options/${o}`, '0\n');
  if (opts.instances ?? true) mkdirSync(path.join(root, 'instances'));
  for (const e of opts.sched ?? ['sched_process_exec', 'sched_process_fork']) mkdirSync(path.join(root, 'events/sched', e), { recursive: true });
  return root;
}

describe('checkTracefsSupport', () => {
  it('this kernel: nothing missing, protocol field and record-tgid present', async () => {
    expect(await checkTracefsSupport(fakeTracefs({}))).toEqual({
      missing: [],
      hasProtocolField: true,
      hasRecordTgid: true,
      hasExecEvent: true,
      hasForkEvent: true,
    });
  });

  it.each([
    ['no sock event', { format: null }, /event sock:inet_sock_set_state/],
    ['no skaddr field (older kernel)', { format: REAL_FORMAT.replace(/\tfield:const void \* skaddr;[^\n]*\n/, '') }, /field inet_sock_set_state\.skaddr/],
    ["no 'fields' option", { options: ['record-tgid'] }, /trace option 'fields'/],
    ['no instances', { instances: false }, /instances\/ directory/],
  ])('%s → says what is missing', async (_name, opts, message) => {
    const support = await checkTracefsSupport(fakeTracefs(opts));
    expect(support.missing.join(', ')).toMatch(message);
  });

  it.each([
    ['no record-tgid', { options: ['fields'] }, { hasRecordTgid: false, missing: [] }],
    ['no protocol field', { format: REAL_FORMAT.replace(/\tfield:__u16 protocol;[^\n]*\n/, '') }, { hasProtocolField: false, missing: [] }],
    ['no sched events', { sched: [] }, { hasExecEvent: false, hasForkEvent: false, missing: [] }],
  ])('optional: %s', async (_name, opts, expected) => {
    expect(await checkTracefsSupport(fakeTracefs(opts))).toMatchObject(expected);
  });
});
