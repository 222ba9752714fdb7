import { describe, expect, it } from 'vitest';
import { OwnProgram, scriptArgument, type PathResolver } from '../../../src/attribute/own-program.js';
import { readProcessInfo } from '../../../src/attribute/process-info.js';
import { unknownProcess, type ProcessInfo } from '../../../src/attribute/types.js';

const NODE = '/usr/local/lib/nodejs/bin/node';
const MAIN = '/opt/imds-sniff/dist/src/main.js';

/** A host where /usr/bin/node and /usr/local/bin/imds-sniff are symlinks; other listed paths are real. */
const HOST: Record<string, string> = {
  [NODE]: NODE,
  '/usr/bin/node': NODE,
  [MAIN]: MAIN,
  '/usr/local/bin/imds-sniff': MAIN,
  '/usr/bin/curl': '/usr/bin/curl',
  '/tmp/copied.js': '/tmp/copied.js',
  '/usr/local/bin/imds-sniff-sea': '/usr/local/bin/imds-sniff-sea',
};
const resolve: PathResolver = (file) => HOST[file] ?? null;

const asNode = new OwnProgram({ script: MAIN }, resolve);
const asSingleExecutable = new OwnProgram({ executable: '/usr/local/bin/imds-sniff-sea' }, resolve);

const proc = (exe: string | null, cmdline: string[] | null): ProcessInfo => ({
  ...unknownProcess(), pid: 4242, comm: 'x', exe, cmdline, attribution: 'tracefs',
});

describe('OwnProgram.runs (agent run by node)', () => {
  it.each([
    ['the /usr/local/bin/imds-sniff symlink (shebang)', proc(NODE, ['node', '/usr/local/bin/imds-sniff', 'status']), true],
    ['node /opt/…/main.js', proc(NODE, ['/usr/bin/node', MAIN, 'enforce']), true],
    ['node options before the script', proc(NODE, ['node', '--enable-source-maps', '-r', 'hook.js', MAIN, 'status']), true],
    ['after --', proc(NODE, ['node', '--', MAIN, 'status']), true],
    ['a relative script (not resolved: counted)', proc(NODE, ['node', 'dist/src/main.js', 'status']), false],
    ['node running another script', proc(NODE, ['node', '/tmp/copied.js']), false],
    ['a script that does not resolve', proc(NODE, ['node', '/nowhere/main.js']), false],
    ['node -e requiring our script', proc(NODE, ['node', '-e', `require(${JSON.stringify(MAIN)})`]), false],
    ['node -p', proc(NODE, ['node', '-p', MAIN]), false],
    ['node with no script', proc(NODE, ['node']), false],
    ['curl', proc('/usr/bin/curl', ['curl', '-A', 'imds-sniff-own/1', MAIN]), false],
    ['another node binary (nvm, a second install): the script is the program', proc('/opt/other/node', ['node', MAIN]), true],
    ['not a node binary with our script on its command line', proc('/usr/bin/python3', ['python3', MAIN]), false],
    ['exe known by its symlink (exec filename)', proc('/usr/bin/node', ['node', MAIN]), true],
    ['a relative exec filename (from the trace: not resolvable here)', proc('node', ['node', MAIN]), false],
    ['command line unknown', proc(NODE, null), false],
    ['exe unknown', proc(null, ['node', MAIN]), false],
    ['unknown attribution', unknownProcess(), false],
  ])('%s → %s', (_name, info, expected) => {
    expect(asNode.runs(info)).toBe(expected);
  });

});

describe('OwnProgram.runs (single-executable agent)', () => {
  it("compares a replaced binary's path as the kernel wrote it", () => {
    const upgraded = new OwnProgram({ executable: '/usr/local/bin/gone-sea' }, resolve);
    expect(upgraded.runs(proc('/usr/local/bin/gone-sea', ['imds-sniff', 'status']))).toBe(true);
  });

  it.each([
    ['the binary itself', proc('/usr/local/bin/imds-sniff-sea', ['imds-sniff', 'status']), true],
    ['the binary, command line unknown', proc('/usr/local/bin/imds-sniff-sea', null), true],
    ['node running main.js', proc(NODE, ['node', MAIN]), false],
    ['curl', proc('/usr/bin/curl', ['curl']), false],
    ['unknown attribution', unknownProcess(), false],
  ])('%s → %s', (_name, info, expected) => {
    expect(asSingleExecutable.runs(info)).toBe(expected);
  });
});

describe('scriptArgument', () => {
  it.each([
    [['node', 'a.js', 'b'], 'a.js'],
    [['node', '--import', 'x', '-C', 'dev', 'a.js'], 'a.js'],
    [['node', '--inspect=0', 'a.js'], 'a.js'],
    [['node', '--', '-weird.js'], '-weird.js'],
    [['node', '--eval', 'x'], null],
    [['node', '-'], null],
    [['node', '--require'], null],
    [['node'], null],
  ])('%j → %s', (cmdline, expected) => {
    expect(scriptArgument(cmdline)).toBe(expected);
  });
});

describe('OwnProgram.current', () => {
  it('matches this very process as /proc shows it, and not a process with its exe but another script', async () => {
    const program = OwnProgram.current();
    expect(program).not.toBeNull();
    const self = await readProcessInfo(process.pid);
    expect(self).not.toBeNull();
    expect(program?.runs(self as ProcessInfo)).toBe(true);
    expect(program?.runs({ ...(self as ProcessInfo), cmdline: [process.execPath, '/tmp/copied.js'] })).toBe(false);
  });

  it('is null when the entry script cannot be resolved (then nothing is own by User-Agent)', () => {
    expect(OwnProgram.current((file) => (file === process.execPath ? file : null))).toBeNull();
  });
});
