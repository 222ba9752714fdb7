// The error-code registry: every code thrown is registered, none is built at run time, and the README table is the registry.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ExitCode, GateRefusedError, InternalError, UsageError, VerifyFailedError } from '../../src/errors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('error codes', () => {
  const files = sources(join(ROOT, 'src')).map((path) => ({ path, text: readFileSync(path, 'utf8') }));

  it('no code is built at run time', () => {
    const built = files.filter((f) => /`ERR_[A-Z0-9_]*\$\{/.test(f.text) || /'ERR_[A-Z0-9_]*'\s*\+/.test(f.text)).map((f) => f.path);
    expect(built).toEqual([]);
  });

  it('every code written in src/ is registered, and every registered code is used', () => {
    // errors.ts counts without its registry: its classes' own codes are uses.
    const withoutRegistry = (f: { path: string; text: string }): string => (f.path.endsWith('/src/errors.ts') ? f.text.replace(/export const ERROR_CODES = \{[\s\S]*?\} as const/, '') : f.text);
    const written = new Set(files.flatMap((f) => [...withoutRegistry(f).matchAll(/'(ERR_[A-Z0-9_]+)'/g)].map((m) => m[1] as string)));
    expect([...written].filter((code) => !(code in ERROR_CODES))).toEqual([]);
    expect(Object.keys(ERROR_CODES).filter((code) => !written.has(code))).toEqual([]);
  });

  it('the README table lists each code with its exit code and class, as the registry does', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Error codes'));
    const rows = [...section.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \| (\d+) \| (\w+) \| (.+) \|$/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
    expect(rows).toEqual(Object.entries(ERROR_CODES).map(([code, e]) => [code, e.exitCode, e.class]));
  });

  it('the class sets the exit code: a held change lock and a change by someone else are refusals (6), an unreadable state file a usage error (2)', () => {
    expect(new GateRefusedError('ERR_CHANGE_IN_PROGRESS', 'x').exitCode).toBe(ExitCode.GATE_REFUSED);
    expect(new GateRefusedError('ERR_CHANGED_MEANWHILE', 'x').exitCode).toBe(ExitCode.GATE_REFUSED);
    expect(new GateRefusedError('ERR_CHANGED_SINCE_ENFORCE', 'x').exitCode).toBe(ExitCode.GATE_REFUSED);
    expect(new UsageError('ERR_STATE_UNREADABLE', 'x').exitCode).toBe(ExitCode.USAGE);
    expect(new UsageError('bad flag')).toMatchObject({ code: 'ERR_USAGE', exitCode: ExitCode.USAGE });
    expect(new VerifyFailedError('x').exitCode).toBe(ExitCode.VERIFY_FAILED);
    expect(new VerifyFailedError('ERR_CHANGED_AFTER_APPLY', 'x').exitCode).toBe(ExitCode.VERIFY_FAILED);
    expect(new InternalError('x')).toMatchObject({ code: 'ERR_INTERNAL', exitCode: ExitCode.INTERNAL });
    expect(JSON.parse(JSON.stringify(new UsageError('bad', { hint: 'h' })))).toEqual({ event: 'error', code: 'ERR_USAGE', exit_code: 2, message: 'bad', hint: 'h' });
  });

  it('only main.ts exits the process (the testbed client scripts are programs of their own)', () => {
    const ownPrograms = /\/src\/(main\.ts|testbed\/[a-z-]+-client\.ts|testbed\/mock-imds-main\.ts)$/;
    const exits = files.filter((f) => /process\.exit\(/.test(f.text) && !ownPrograms.test(f.path)).map((f) => f.path.slice(ROOT.length));
    expect(exits).toEqual([]);
  });
});
