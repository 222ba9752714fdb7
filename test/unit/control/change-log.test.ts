import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChangeLog, currentActor, type ChangeRecord } from '../../../src/control/change-log.js';
import { EC2_DEFAULT_OPTIONS } from '../../../src/control/metadata-options.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'imds-sniff-changes-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const instance = (id: string) => ({ kind: 'instance' as const, instance_id: id, region: 'us-east-1' });
function enforce(id: string, time: string, over: Partial<ChangeRecord> = {}): Omit<ChangeRecord, 'id'> {
  return {
    time, action: 'enforce', target: instance(id), before: EC2_DEFAULT_OPTIONS, after: { ...EC2_DEFAULT_OPTIONS, httpTokens: 'required' },
    forced: false, local: true, result: 'applied', by: currentActor(['node', 'imds-sniff', 'enforce']), rolled_back_at: null, undoes: null, ...over,
  };
}

describe('ChangeLog', () => {
  it('appends records (mode 0640, directory created) and finds the last open enforce per target', () => {
    const log = new ChangeLog(join(dir, 'state', 'changes.json'));
    const a = log.append(enforce('i-0aaaaaaaaaaaaaaaa', '2026-11-23T10:00:00.000Z'));
    const b = log.append(enforce('i-0bbbbbbbbbbbbbbbb', '2026-11-23T11:00:00.000Z'));
    log.append(enforce('i-0aaaaaaaaaaaaaaaa', '2026-11-23T11:30:00.000Z', { result: 'failed' }));
    expect(statSync(log.path).mode & 0o777).toBe(0o640);
    expect(log.lastOpenChange(instance('i-0aaaaaaaaaaaaaaaa'))?.id).toBe(a.id);
    expect(log.lastOpenAny()?.id).toBe(b.id);
    log.update(b.id, { rolled_back_at: '2026-11-23T12:00:00.000Z' });
    expect(log.lastOpenAny()?.id).toBe(a.id);
    expect(log.lastOpenChange({ ...instance('i-0aaaaaaaaaaaaaaaa'), region: 'eu-west-1' })).toBeNull();
    expect(JSON.parse(readFileSync(log.path, 'utf8')).changes).toHaveLength(3);
  });

  it('records who ran it, with secrets on the command line redacted', () => {
    const actor = currentActor(['node', '/usr/local/bin/imds-sniff', 'enforce', '--token', 'AQoDYXdzEJr-secret']);
    expect(actor.command).toMatch(/^imds-sniff enforce --token /);
    expect(actor.command).not.toContain('AQoDYXdzEJr-secret');
    expect(actor).toMatchObject({ pid: process.pid, uid: process.getuid?.() });
    expect(actor.parents.length).toBeGreaterThan(0);
  });

  it('refuses a file that is not a change log, with a hint', () => {
    const path = join(dir, 'changes.json');
    writeFileSync(path, '{"hello":1}');
    expect(() => new ChangeLog(path).read()).toThrow(/is not an imds-sniff change log/);
  });

  it('says so when the directory is a file', () => {
    writeFileSync(join(dir, 'blocker'), '');
    expect(() => new ChangeLog(join(dir, 'blocker', 'changes.json')).lock()).toThrow(/cannot write the change record .*blocker/);
  });

  it('keeps an unknown outcome open for rollback', () => {
    const log = new ChangeLog(join(dir, 'changes.json'));
    const r = log.append(enforce('i-0aaaaaaaaaaaaaaaa', '2026-11-23T10:00:00.000Z', { result: 'unknown' }));
    expect(log.lastOpenAny()?.id).toBe(r.id);
  });
});
