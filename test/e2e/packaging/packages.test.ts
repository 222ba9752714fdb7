// The .deb and .rpm (packaging/build-packages.sh): what they hold, their scripts and dependencies,
// and a real install with rpm --root and dpkg --root into scratch roots. The maintainer scripts run
// there too (a static busybox is the root's /bin/sh); with no systemd running they only enable.
// The install on a running systemd, upgrade and purge included, is the systemd VM's job.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/**
 * Scratch roots (hundreds of MB each) go to RAM where there is a tmpfs: on disk, their writeback
 * ran into the next test files' timing (a podman burst then missed a container id).
 */
const SCRATCH = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const BUSYBOX = join(ROOT, '.cache/podman-rootfs/bin/busybox');
const ARCHES = [
  { arch: 'x64', deb: 'amd64', rpm: 'x86_64' },
  { arch: 'arm64', deb: 'arm64', rpm: 'aarch64' },
];

const debFile = (deb: string): string => join(ROOT, `build/dist/imds-sniff_${VERSION}_${deb}.deb`);
const rpmFile = (rpm: string): string => join(ROOT, `build/dist/imds-sniff-${VERSION}-1.${rpm}.rpm`);

function skipReason(deb: string, rpm: string): string | null {
  if (process.env['IMDS_SNIFF_REQUIRE_E2E'] === '1') return null;
  if (process.getuid?.() !== 0) return 'installing into a root needs root';
  if (!existsSync(debFile(deb)) || !existsSync(rpmFile(rpm))) return 'not built (bash packaging/build-packages.sh)';
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} missing (bash scripts/setup-podman.sh)`;
  return null;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(r.status, `${cmd} ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A scratch root whose /bin/sh is a static busybox, so maintainer scripts can run chrooted in it. */
function scratchRoot(name: string, version = 252): string {
  const dir = mkdtempSync(join(SCRATCH, `imds-sniff-${name}-`));
  scratch.push(dir);
  mkdirSync(join(dir, 'bin'));
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  for (const applet of ['sh', 'rm', 'rmdir', 'cat', 'sed', 'mkdir', 'ln', 'chmod', 'dirname']) symlinkSync('busybox', join(dir, 'bin', applet));
  mkdirSync(join(dir, 'dev'));
  expect(spawnSync('mknod', ['-m', '666', join(dir, 'dev/null'), 'c', '1', '3']).status).toBe(0);
  // A systemctl that writes down what the maintainer scripts asked of it (no systemd runs here).
  // `systemctl --version` answers as systemd `version` would (219: Amazon Linux 2).
  writeFileSync(join(dir, 'bin/systemctl'), `#!/bin/sh\ncase "$1" in --version) echo "systemd ${version} (test)" ;; *) echo "$*" >>/systemctl.log ;; esac\n`, { mode: 0o755 });
  return dir;
}

/** What the maintainer scripts asked systemctl, one call per line. */
function systemctlCalls(dir: string): string[] {
  return existsSync(join(dir, 'systemctl.log')) ? readFileSync(join(dir, 'systemctl.log'), 'utf8').trim().split('\n') : [];
}

const PAYLOAD = [
  '/etc/imds-sniff/config.json',
  '/etc/logrotate.d/imds-sniff',
  '/usr/lib/systemd/system/imds-sniff.service',
  '/usr/bin/imds-sniff',
  '/usr/lib/imds-sniff/imds-sniff',
  '/usr/lib/imds-sniff/libpcap.so.0.8',
  '/usr/lib/imds-sniff/pcap_binding.node',
  '/usr/share/doc/imds-sniff/README.md',
];

describe('the default config the packages install', () => {
  it('is valid: imds-sniff config check accepts it', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/src/main.js'), 'config', 'check', '-c', join(ROOT, 'packaging/files/config.json')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/: ok$/m);
  });
});

describe.each(ARCHES)('the $arch packages', ({ arch, deb, rpm }) => {
  const skip = skipReason(deb, rpm);
  const note = skip ? ` (skipped: ${skip})` : '';

  it.skipIf(skip !== null)(`.rpm: files, config(noreplace), scripts, and no dependency on the host's libraries${note}`, () => {
    const file = rpmFile(rpm);
    const list = run('rpm', ['-qlp', file]).trim().split('\n');
    for (const path of PAYLOAD) expect(list).toContain(path);
    expect(run('rpm', ['-qp', '--queryformat', '%{ARCH}', file])).toBe(rpm);
    expect(run('rpm', ['-qcp', file]).trim().split('\n').sort()).toEqual(['/etc/imds-sniff/config.json', '/etc/logrotate.d/imds-sniff']);
    // noreplace: %{FILEFLAGS} has RPMFILE_CONFIG (1) and RPMFILE_NOREPLACE (16) for both.
    const flags = run('rpm', ['-qp', '--queryformat', '[%{FILENAMES} %{FILEFLAGS}\n]', file]);
    for (const conf of ['/etc/imds-sniff/config.json', '/etc/logrotate.d/imds-sniff']) {
      const value = Number(new RegExp(`^${conf} (\\d+)$`, 'm').exec(flags)?.[1]);
      expect(value & 17, conf).toBe(17);
    }
    const scripts = run('rpm', ['-qp', '--scripts', file]);
    expect(scripts).toMatch(/postinstall scriptlet[\s\S]*systemctl enable "\$unit"[\s\S]*systemctl start "\$unit" \|\|/);
    expect(scripts).toMatch(/preuninstall scriptlet[\s\S]*systemctl disable --now "\$unit"/);
    expect(scripts).toMatch(/try-restart/);
    // Only rpm's own capabilities and /bin/sh: no libc.so.6(GLIBC_…), no libpcap.
    const requires = run('rpm', ['-qp', '--requires', file]).trim().split('\n');
    for (const r of requires) expect(r, r).toMatch(/^(rpmlib\(|\/bin\/sh)/);
  });

  it.skipIf(skip !== null)(`.rpm installs with rpm --root into a scratch root, runs its scriptlets, and erases${note}`, () => {
    // systemd 219 (Amazon Linux 2): the package adds the drop-in that makes the unit run there.
    const dir = scratchRoot(`rpm-${arch}`, 219);
    run('rpm', ['--root', dir, '--initdb']);
    // --nodeps: nothing in this empty rpm database provides /bin/sh (the root's busybox is no package).
    const install = spawnSync('rpm', ['--root', dir, '-i', '--nodeps', '--ignorearch', rpmFile(rpm)], { encoding: 'utf8' });
    expect(install.status, install.stderr).toBe(0);
    expect(install.stderr).not.toMatch(/scriptlet failed/);
    // Outside a running systemd the scriptlet only enables.
    expect(systemctlCalls(dir)).toEqual(['enable imds-sniff.service']);
    const dropin = join(dir, 'etc/systemd/system/imds-sniff.service.d/10-systemd-before-235.conf');
    expect(readFileSync(dropin, 'utf8')).toMatch(/^SystemCallFilter=$/m);
    for (const path of PAYLOAD) expect(existsSync(join(dir, path)), path).toBe(true);
    expect(statSync(join(dir, 'usr/lib/imds-sniff/imds-sniff')).mode & 0o7777).toBe(0o755);
    expect(run('rpm', ['--root', dir, '-V', '--nodeps', 'imds-sniff'])).toBe('');
    // An operator's config survives the erase as .rpmsave.
    writeFileSync(join(dir, 'etc/imds-sniff/config.json'), '{"interface":"eth0"}\n');
    const erase = spawnSync('rpm', ['--root', dir, '-e', '--nodeps', 'imds-sniff'], { encoding: 'utf8' });
    expect(erase.status, erase.stderr).toBe(0);
    expect(erase.stderr).not.toMatch(/scriptlet failed/);
    expect(systemctlCalls(dir)).toEqual(['enable imds-sniff.service', 'disable imds-sniff.service']);
    expect(existsSync(dropin)).toBe(false);
    expect(existsSync(join(dir, 'usr/lib/imds-sniff/imds-sniff'))).toBe(false);
    expect(readFileSync(join(dir, 'etc/imds-sniff/config.json.rpmsave'), 'utf8')).toContain('eth0');
  });

  it.skipIf(skip !== null)(`.deb: control, conffiles, files, and no Depends${note}`, () => {
    const file = debFile(deb);
    const control = run('dpkg-deb', ['-f', file]);
    expect(control).toMatch(new RegExp(`^Architecture: ${deb}$`, 'm'));
    expect(control).toMatch(new RegExp(`^Version: ${VERSION.replace(/\./g, '\\.')}$`, 'm'));
    expect(control).not.toMatch(/^(Pre-)?Depends:/m);
    const contents = run('dpkg-deb', ['-c', file]);
    for (const path of PAYLOAD) expect(contents).toContain(` .${path}`);
    // Owned by root, nothing group- or world-writable.
    for (const line of contents.trim().split('\n')) {
      expect(line, line).toMatch(/^[-dl]r.[-x]r.[-xs]r.[-xt] root\/root /);
      if (!line.startsWith('l')) expect(line.slice(5, 6) + line.slice(8, 9), line).toBe('--');
    }
    const work = mkdtempSync(join(SCRATCH, `imds-sniff-deb-${arch}-`));
    scratch.push(work);
    run('dpkg-deb', ['-e', file, work]);
    expect(readFileSync(join(work, 'conffiles'), 'utf8')).toBe('/etc/imds-sniff/config.json\n/etc/logrotate.d/imds-sniff\n');
  });

  it.skipIf(skip !== null)(`.deb installs with dpkg --root, keeps a changed conffile on upgrade, and purge removes the state${note}`, () => {
    const dir = scratchRoot(`deb-${arch}`);
    for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/imds-sniff', 'var/log/imds-sniff']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'var/lib/dpkg/status'), '');
    const dpkg = (...args: string[]): string =>
      run('dpkg', ['--root', dir, '--force-architecture', '--force-not-root', '--log=/dev/null', ...args]);
    dpkg('-i', debFile(deb));
    for (const path of PAYLOAD) expect(existsSync(join(dir, path)), path).toBe(true);
    expect(run('dpkg', ['--root', dir, '-s', 'imds-sniff'])).toMatch(/^Status: install ok installed$/m);
    expect(systemctlCalls(dir)).toEqual(['enable imds-sniff.service']);
    // Upgrade (the same package again): a changed conffile is kept, the state stays.
    writeFileSync(join(dir, 'etc/imds-sniff/config.json'), '{"interface":"eth0"}\n');
    writeFileSync(join(dir, 'var/lib/imds-sniff/state.json'), '{}\n');
    dpkg('--force-confold', '-i', debFile(deb));
    expect(readFileSync(join(dir, 'etc/imds-sniff/config.json'), 'utf8')).toContain('eth0');
    expect(existsSync(join(dir, 'var/lib/imds-sniff/state.json'))).toBe(true);
    dpkg('-r', 'imds-sniff');
    // The upgrade enabled nothing again (no systemd to restart); the removal disabled.
    expect(systemctlCalls(dir)).toEqual(['enable imds-sniff.service', 'disable imds-sniff.service']);
    expect(existsSync(join(dir, 'usr/lib/imds-sniff/imds-sniff'))).toBe(false);
    expect(existsSync(join(dir, 'etc/imds-sniff/config.json'))).toBe(true);
    expect(existsSync(join(dir, 'var/lib/imds-sniff/state.json'))).toBe(true);
    // Installed again after a removal that kept the state: a new install (enabled again), not an upgrade.
    expect(existsSync(join(dir, 'var/lib/imds-sniff/.package-removed'))).toBe(true);
    dpkg('-i', debFile(deb));
    expect(systemctlCalls(dir)).toEqual(['enable imds-sniff.service', 'disable imds-sniff.service', 'enable imds-sniff.service']);
    expect(existsSync(join(dir, 'var/lib/imds-sniff/.package-removed'))).toBe(false);
    dpkg('-P', 'imds-sniff');
    expect(existsSync(join(dir, 'etc/imds-sniff'))).toBe(false);
    expect(existsSync(join(dir, 'var/lib/imds-sniff'))).toBe(false);
  });
});
