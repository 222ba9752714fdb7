// Test helper: real OCI containers (podman + runc) from the exploded root scripts/setup-podman.sh builds, in a testbed namespace.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable } from '../../src/testbed/prerequisites.js';
import { firstLine, runCommand, type CommandResult } from '../../src/testbed/run-command.js';
import { scaledMs } from '../../src/testbed/time-scale.js';
import { waitUntil } from './wait-until.js';

/** .cache/podman-rootfs: busybox-static and the host's curl (scripts/setup-podman.sh). */
export const PODMAN_ROOTFS = fileURLToPath(new URL('../../.cache/podman-rootfs', import.meta.url));

/** Where the container sees the host's /proc: `/hostproc/self` names a process by its host pid. */
export const HOST_PROC = '/hostproc';

export type CgroupManager = 'cgroupfs' | 'systemd';

/** Why podman containers cannot run here, or null when they can. */
export function podmanSkipReason(): string | null {
  const missing = ['podman', 'runc', 'conmon'].filter((c) => findExecutable(c) === undefined && !existsSync(`/usr/sbin/${c}`) && !existsSync(`/usr/bin/${c}`));
  if (missing.length > 0) return `${missing.join(', ')} not installed (bash scripts/setup-podman.sh)`;
  if (!existsSync(join(PODMAN_ROOTFS, 'usr/bin/curl'))) return `${PODMAN_ROOTFS} not built (bash scripts/setup-podman.sh)`;
  return null;
}

/** One container as podman reports it. */
export interface PodmanRun extends CommandResult {
  id: string;
  name: string;
}

/**
 * A podman with its own storage and run state in a temporary directory (--root, --runroot,
 * --tmpdir), so nothing is left in /var/lib/containers and runs never see each other's
 * containers. runc, not crun: crun refuses hybrid cgroup hosts. {@link close} removes every
 * container it started, whether or not the test passed, then the directory.
 */
/** How `Podman.run` runs: attached or detached, and from the test rootfs or from an image. */
export interface RunOptions {
  detach?: boolean;
  timeoutMs?: number;
  /** An image (loaded with `load`) and its run flags, instead of the busybox+curl rootfs with the host's /proc. */
  image?: { ref: string; flags: readonly string[] };
}

export class Podman {
  private readonly names = new Set<string>();
  private serial = 0;

  private constructor(
    private readonly dir: string,
    readonly cgroupManager: CgroupManager,
    private readonly prefix: string,
  ) {}

  static create(prefix: string, cgroupManager: CgroupManager = 'cgroupfs'): Podman {
    return new Podman(mkdtempSync(join(tmpdir(), 'imds-sniff-podman-')), cgroupManager, prefix);
  }

  private global(): string[] {
    return [
      '--root', join(this.dir, 'root'),
      '--runroot', join(this.dir, 'run'),
      '--tmpdir', join(this.dir, 'tmp'),
      '--cgroup-manager', this.cgroupManager,
      '--runtime', 'runc',
      '--storage-driver', 'vfs',
      '--events-backend', 'file',
      '--log-level', 'error',
    ];
  }

  /** Runs `podman <args>` with this instance's storage; rejects on a non-zero exit. */
  async podman(args: readonly string[], timeoutMs = scaledMs(60_000)): Promise<CommandResult> {
    const result = await runCommand(['podman', ...this.global(), ...args], { timeoutMs });
    if (result.code !== 0) throw new Error(`podman ${args[0] ?? ''} failed (${String(result.code ?? result.signal)}): ${firstLine(result)}`);
    return result;
  }

  /**
   * `podman run` of `argv` in the network namespace /run/netns/<netns>, with its own pid
   * namespace and the host's /proc at {@link HOST_PROC}. Attached: resolves when the
   * container's command has exited, with its output. `detach` starts it and resolves at once.
   */
  async run(netns: string, argv: readonly string[], options: RunOptions = {}): Promise<PodmanRun> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.runOnce(netns, argv, options);
      } catch (err) {
        // podman's flock of /etc/cni/net.d/cni.lock can fail with EINTR before anything ran (seen in the
        // 6.1 VM under load): a podman bug, not ours. Retry under a new name; close() removes both.
        if (attempt >= 3 || !/interrupted system call/.test(String(err))) throw err;
      }
    }
  }

  private async runOnce(netns: string, argv: readonly string[], options: RunOptions): Promise<PodmanRun> {
    const name = `${this.prefix}-${++this.serial}`;
    this.names.add(name);
    const what = options.image ? [...options.image.flags, options.image.ref] : ['--volume', `/proc:${HOST_PROC}:ro`, '--rootfs', PODMAN_ROOTFS];
    const args = [
      'run', '--name', name,
      ...(options.detach ? ['--detach'] : []),
      '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024',
      '--network', `ns:/run/netns/${netns}`,
      ...what,
      ...argv,
    ];
    const result = await this.podman(args, options.timeoutMs);
    const id = options.detach ? result.stdout.trim() : await this.id(name);
    return { ...result, id, name };
  }

  /** `podman load` of an OCI archive into this instance's storage; resolves with the image's reference. */
  async load(archive: string): Promise<string> {
    const result = await this.podman(['load', '--quiet', '--input', archive], scaledMs(120_000));
    const ref = /Loaded image(?:\(s\))?: (\S+)/.exec(result.stdout)?.[1];
    if (!ref) throw new Error(`podman load printed no image: ${result.stdout}`);
    return ref;
  }

  /** `podman logs` of a container (stdout and stderr). */
  async logs(name: string): Promise<string> {
    const result = await this.podman(['logs', name]);
    return result.stdout + result.stderr;
  }

  /** `podman exec` in a running container; resolves with its output when it exits. */
  exec(name: string, argv: readonly string[], timeoutMs = scaledMs(60_000)): Promise<CommandResult> {
    return this.podman(['exec', name, ...argv], timeoutMs);
  }

  /** The full (64 hex) container id. */
  async id(name: string): Promise<string> {
    return (await this.podman(['inspect', '--format', '{{.Id}}', name])).stdout.trim();
  }

  /**
   * Host pid of the container's first process, from the pid file runc writes at create
   * (it outlives the process, unlike `State.Pid`, which is 0 once the container has exited).
   */
  async initPid(name: string): Promise<number> {
    const file = (await this.podman(['inspect', '--format', '{{.PidFile}}', name])).stdout.trim();
    return Number(readFileSync(file, 'utf8').trim());
  }

  /** Removes every container this instance started, then its storage. Safe to call twice. */
  async close(): Promise<void> {
    const problems: string[] = [];
    if (this.names.size > 0 && existsSync(this.dir)) {
      const rm = await runCommand(['podman', ...this.global(), 'rm', '--force', '--ignore', '--time', '0', ...this.names], { timeoutMs: scaledMs(60_000) });
      if (rm.code !== 0) problems.push(`podman rm: ${firstLine(rm)}`);
      this.names.clear();
    }
    // Storage may hold mounts (overlay, shm) if a container was left half-made: unmount before removing.
    for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n').reverse()) {
      const target = line.split(' ')[1];
      if (target?.startsWith(this.dir)) await runCommand(['umount', '-l', target]);
    }
    // conmon runs `podman … container cleanup` with this storage when a container exits, in
    // the background: removing the directory under it would have it made anew.
    await waitUntil(() => processesUsing(this.dir).length === 0, 20_000, `no process using ${this.dir}`, { intervalMs: 50 }).catch(() => undefined);
    const stragglers = processesUsing(this.dir);
    if (stragglers.length > 0) problems.push(`processes still using ${this.dir}: ${stragglers.join(', ')}`);
    rmSync(this.dir, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(problems.join('; '));
  }
}

/** Pids whose command line names `dir` (podman and conmon get the storage paths as arguments). */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
