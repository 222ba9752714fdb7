// Throw-away network-namespace testbed (instance, IMDS, container) with the mock IMDS, for `demo` and e2e tests.

import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestbedError } from '../errors.js';
import { launchMockImds, type LaunchedMockImds } from './mock-imds-launcher.js';
import type { MockImdsControl } from './mock-imds-control.js';
import type { MockImdsOptionsPatch } from './mock-imds-options.js';
import {
  deleteNetns,
  execInNetns,
  killNetnsProcesses,
  listNetns,
  mustSucceed,
  spawnInNetns,
  waitForOperstateUp,
} from './netns.js';
import { testbedPrerequisites } from './prerequisites.js';
import type { CommandResult, RunCommandOptions } from './run-command.js';
import {
  buildSteps,
  checkPrefix,
  testbedLayout,
  vethEnds,
  type TestbedLayout,
  type TestbedNamespace,
} from './testbed-layout.js';

/** Options for createTestbed. */
export interface TestbedOptions {
  /** Namespace name prefix; default `imdss` plus 6 random hex digits. */
  prefix?: string;
  /**
   * Address block 1..254 (10.<b>.0.0/24, 172.<b>.0.0/24, fd00:<b>::/64, fd01:<b>::/64).
   * Every address lives inside the testbed's own namespaces, so testbeds never clash;
   * distinct blocks only tell them apart in captures. Default 17.
   */
  block?: number;
  /** Initial mock IMDS options. */
  mock?: MockImdsOptionsPatch;
  /** Start the mock IMDS in the imds namespace. Default true. */
  startMock?: boolean;
  /** Compiled mock-imds-main.js to run; default resolveMockImdsScript(). */
  mockScript?: string;
}

/** Suffixes of the namespaces a testbed creates; destroyStaleTestbeds matches on them. */
const NAMESPACES: readonly TestbedNamespace[] = ['host', 'imds', 'ctr'];

/** A built testbed. Always call destroy(), also when a test fails. */
export class Testbed {
  readonly layout: TestbedLayout;
  private launched: LaunchedMockImds | undefined;
  private controlDir: string | undefined;
  private destroying: Promise<void> | undefined;

  /** Use createTestbed(); the constructor builds nothing. */
  constructor(layout: TestbedLayout) {
    this.layout = layout;
  }

  /** Namespace name prefix of this testbed. */
  get prefix(): string {
    return this.layout.prefix;
  }

  /** Control client of the running mock IMDS; throws TestbedError when it was not started. */
  get mock(): MockImdsControl {
    if (this.launched === undefined) throw new TestbedError('the mock IMDS of this testbed is not running');
    return this.launched.control;
  }

  /** The mock IMDS child process, if running. */
  get mockProcess(): ChildProcess | undefined {
    return this.launched?.child;
  }

  /** Full namespace name, e.g. nsName('host') → "imdss1a2b3c-host". */
  nsName(which: TestbedNamespace): string {
    return this.layout.netns[which];
  }

  /** Runs argv in a testbed namespace and resolves with code, stdout and stderr (never rejects on exit code). */
  exec(ns: TestbedNamespace, argv: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
    return execInNetns(this.nsName(ns), argv, options);
  }

  /** Starts argv in a testbed namespace; the child's pid is the command's pid. */
  spawn(ns: TestbedNamespace, argv: readonly string[], options: SpawnOptions = {}): ChildProcess {
    return spawnInNetns(this.nsName(ns), argv, options);
  }

  /** Starts the mock IMDS in the imds namespace (createTestbed does this unless startMock is false). */
  async startMock(options: MockImdsOptionsPatch = {}, script?: string): Promise<MockImdsControl> {
    if (this.launched !== undefined) throw new TestbedError('the mock IMDS of this testbed is already running');
    this.controlDir ??= await mkdtemp(join(tmpdir(), `imds-sniff-${this.prefix}-`));
    this.launched = await launchMockImds({
      netns: this.nsName('imds'),
      controlPath: join(this.controlDir, 'control.sock'),
      options,
      ...(script === undefined ? {} : { script }),
    });
    return this.launched.control;
  }

  /** Stops the mock IMDS, if running, and waits for it to exit. */
  async stopMock(): Promise<void> {
    const launched = this.launched;
    this.launched = undefined;
    await launched?.stop();
  }

  /**
   * Stops the mock, kills every process left in the namespaces, deletes them and the
   * control socket. Idempotent, and safe on a half-built testbed.
   */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      const problems: string[] = [];
      await this.stopMock().catch((error: unknown) => problems.push(String(error)));
      for (const which of NAMESPACES) {
        await removeNamespace(this.nsName(which)).catch((error: unknown) => problems.push(String(error)));
      }
      if (this.controlDir !== undefined) await rm(this.controlDir, { recursive: true, force: true });
      if (problems.length > 0) throw new TestbedError(`testbed ${this.prefix} not fully removed: ${problems.join('; ')}`);
    })();
    return this.destroying;
  }
}

/**
 * Builds a testbed: namespaces `<prefix>-host`, `<prefix>-imds`, `<prefix>-ctr`, their
 * links, NAT and (by default) the mock IMDS. On any failure it removes what it built and
 * throws TestbedError with a one-line message ("not root", "nft not found", the step that failed).
 */
export async function createTestbed(options: TestbedOptions = {}): Promise<Testbed> {
  const prerequisites = testbedPrerequisites();
  const blocking = prerequisites.missing.filter((m) => m !== 'curl');
  if (blocking.length > 0) {
    throw new TestbedError(`cannot build the testbed: ${prerequisites.reason ?? blocking.join(', ')}`, {
      hint: 'run as root on Linux with iproute2 and nftables installed',
    });
  }
  const layout = testbedLayout(options.prefix ?? `imdss${randomBytes(3).toString('hex')}`, options.block ?? 17);
  const existing = await listNetns();
  const clash = NAMESPACES.map((w) => layout.netns[w]).find((name) => existing.includes(name));
  if (clash !== undefined) throw new TestbedError(`network namespace ${clash} already exists`, { hint: 'destroyStaleTestbeds(prefix) removes leftovers' });

  const testbed = new Testbed(layout);
  try {
    for (const which of NAMESPACES) await mustSucceed(['ip', 'netns', 'add', layout.netns[which]]);
    for (const step of buildSteps(layout)) {
      await mustSucceed(step.argv, step.input === undefined ? {} : { input: step.input });
    }
    for (const [ns, dev] of vethEnds(layout)) await waitForOperstateUp(ns, dev);
    if (options.startMock !== false) await testbed.startMock(options.mock ?? {}, options.mockScript);
  } catch (error) {
    await testbed.destroy().catch(() => undefined);
    if (error instanceof TestbedError) throw error;
    throw new TestbedError(`cannot build the testbed: ${String(error)}`, { cause: error });
  }
  return testbed;
}

/**
 * Removes leftovers of crashed runs: every namespace named `<prefix>…-host|-imds|-ctr`
 * and the processes inside. Returns the names removed. Do not call it with the prefix
 * of a testbed that another process is still using.
 */
export async function destroyStaleTestbeds(prefix: string): Promise<string[]> {
  checkPrefix(prefix);
  const suffix = new RegExp(`^${prefix}[a-z0-9]*-(${NAMESPACES.join('|')})$`);
  const stale = (await listNetns()).filter((name) => suffix.test(name));
  for (const name of stale) await removeNamespace(name);
  return stale;
}

async function removeNamespace(name: string): Promise<void> {
  await killNetnsProcesses(name);
  await deleteNetns(name);
}
