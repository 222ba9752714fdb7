import { describe, expect, it } from 'vitest';
import {
  parseCgroup,
  parseCmdline,
  parseNsLink,
  parseStat,
  parseStatus,
  innermostNsPid,
  stripDeleted,
} from '../../../src/attribute/proc-parsers.js';
import { fixtureText } from './fixtures.js';

const REAL_INIT_STAT =
  '1 (process_api) S 0 0 0 0 -1 4194560 42137 530701 0 623 58 293 1372 864 10 -10 13 0 25 41361408 2873 18446744073709551615 1 1 0 0 0 0 0 4096 1256 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n';

describe('parseStat', () => {
  it.each([
    ['real pid 1', REAL_INIT_STAT, { pid: 1, comm: 'process_api', state: 'S', ppid: 0, startTime: 25 }],
    ['fixture curl', fixtureText('host', 'proc', '2015', 'stat'), { pid: 2015, comm: 'curl', state: 'S', ppid: 812 }],
    ['comm with ") (" and spaces', fixtureText('host', 'proc', '3001', 'stat'), { pid: 3001, comm: 'my app) (x', ppid: 1 }],
    ['zombie', fixtureText('host', 'proc', '4000', 'stat'), { pid: 4000, comm: 'aws', state: 'Z', ppid: 812 }],
    ['comm ending in ")"', '77 (a)) R 5 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 999 0 0', { comm: 'a)', state: 'R', ppid: 5, startTime: 999 }],
    ['empty comm', '9 () S 2 0', { pid: 9, comm: '', ppid: 2, startTime: -1 }],
  ])('%s', (_name, text, expected) => {
    expect(parseStat(text)).toMatchObject(expected);
  });

  it.each([[''], ['garbage'], ['12 (x'], ['x (y) S 1'], ['5 (y)']])('rejects %j', (text) => {
    expect(parseStat(text)).toBeNull();
  });
});

describe('parseStatus', () => {
  it.each([
    ['fixture curl', fixtureText('host', 'proc', '2015', 'status'), { name: 'curl', tgid: 2015, ppid: 812, uid: 0, nsPids: [2015, 7] }],
    ['uid 1000', fixtureText('host', 'proc', '3001', 'status'), { name: 'my app) (x', tgid: 3001, uid: 1000 }],
    ['a thread', 'Name:\tpython3\nTgid:\t3985\nPid:\t4026\nPPid:\t3950\nUid:\t1000\t0\t0\t0\n', { tgid: 3985, ppid: 3950, uid: 1000 }],
    ['empty', '', { name: null, tgid: null, ppid: null, uid: null, nsPids: null }],
    ['a task half-way through its exit', 'Name:\tcurl\nState:\tX (dead)\nTgid:\t0\nPid:\t0\nPPid:\t0\n', { tgid: null, ppid: 0 }],
    ['NSpid nested twice (container in a container)', 'Pid:\t9000\nNSpid:\t9000\t310\t1\n', { nsPids: [9000, 310, 1] }],
    ['NSpid garbled', 'NSpid:\t9000\tx\n', { nsPids: null }],
  ])('%s', (_name, text, expected) => {
    expect(parseStatus(text)).toMatchObject(expected);
  });
});

describe('innermostNsPid', () => {
  it.each([
    ['container: the last NSpid', 'NSpid:\t2015\t7\n', 7],
    ['nested: the innermost', 'NSpid:\t9000\t310\t1\n', 1],
    ['host pid namespace: one entry', 'NSpid:\t812\n', null],
    ['no NSpid line (kernel < 4.1)', 'Pid:\t812\n', null],
  ])('%s', (_name, text, expected) => {
    expect(innermostNsPid(parseStatus(text))).toBe(expected);
  });
  it('unknown status', () => expect(innermostNsPid(null)).toBeNull());
});

describe('parseCmdline', () => {
  it.each([
    ['fixture curl', fixtureText('host', 'proc', '2015', 'cmdline'), ['curl', '-s', 'http://169.254.169.254/latest/meta-data/']],
    ['one arg', '/sbin/init\0', ['/sbin/init']],
    ['no trailing NUL (setproctitle)', 'nginx: worker process', ['nginx: worker process']],
    ['empty arg kept', 'a\0\0b\0', ['a', '', 'b']],
    ['kernel thread / zombie', '', null],
  ])('%s', (_name, text, expected) => {
    expect(parseCmdline(text)).toEqual(expected);
  });
});

describe('parseNsLink', () => {
  it.each([
    ['net:[4026531840]', 4026531840],
    ['net:[4026532451]\n', 4026532451],
    ['mnt:[1]', 1],
    ['net:4026531840', null],
    ['', null],
  ])('%j → %s', (link, expected) => {
    expect(parseNsLink(link)).toBe(expected);
  });
});

describe('stripDeleted', () => {
  it.each([
    ['/usr/bin/curl (deleted)', '/usr/bin/curl'],
    ['/usr/bin/curl', '/usr/bin/curl'],
    ['/opt/my (deleted) app', '/opt/my (deleted) app'],
  ])('%j → %j', (link, expected) => {
    expect(stripDeleted(link)).toBe(expected);
  });
});

describe('parseCgroup', () => {
  it.each([
    ['v2', '0::/system.slice/cloud-final.service\n', [{ hierarchyId: 0, controllers: [], path: '/system.slice/cloud-final.service' }]],
    [
      'v1 and v2 (real hybrid host)',
      '4:memory:/process_api/bec05fd895c8b582bac61292d7e67649\n9:name=systemd:/\n0::/\n',
      [
        { hierarchyId: 4, controllers: ['memory'], path: '/process_api/bec05fd895c8b582bac61292d7e67649' },
        { hierarchyId: 9, controllers: ['name=systemd'], path: '/' },
        { hierarchyId: 0, controllers: [], path: '/' },
      ],
    ],
    ['v1 comma controllers', '3:cpu,cpuacct:/a\n', [{ hierarchyId: 3, controllers: ['cpu', 'cpuacct'], path: '/a' }]],
    ['path with colon', '0::/weird:path\n', [{ hierarchyId: 0, controllers: [], path: '/weird:path' }]],
    ['junk skipped', 'nonsense\nx:y:z\n', []],
  ])('%s', (_name, text, expected) => {
    expect(parseCgroup(text)).toEqual(expected);
  });
});
