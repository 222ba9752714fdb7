// Test harness of the control commands: a testbed whose mock IMDS follows a moto EC2 instance, and the real CLI run inside it.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curlV1 } from '../../../src/testbed/clients.js';
import { resolveAgentScript } from '../../../src/testbed/agent-process.js';
import { createTestbed, destroyStaleTestbeds, type Testbed } from '../../../src/testbed/testbed.js';
import type { AgentState, ProcessTotals } from '../../../src/contract/agent-state.js';
import { describeMetadataOptions, ec2Call, runInstance, type Ec2CallTarget, type InstanceMetadataOptions } from '../../helpers/ec2-call.js';
import { resolveMockImdsEc2Script } from '../../helpers/mock-imds-ec2-follower.js';
import { MotoServer } from '../../helpers/moto.js';
import { waitUntil } from '../../helpers/wait-until.js';

/** Static keys for moto; never a profile from the machine. */
export const AWS_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_DISABLE_REQUEST_COMPRESSION: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  AWS_PROFILE: undefined,
};

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One testbed, moto in its host namespace (also reachable from the IMDS namespace), one instance the mock follows. */
export class ControlBed {
  private constructor(
    readonly tb: Testbed,
    readonly moto: MotoServer,
    readonly instanceId: string,
    readonly dir: string,
  ) {}

  static async create(prefix: string, block: number): Promise<ControlBed> {
    const tb = await createTestbed({ prefix, block, mock: { region: 'us-east-1' }, mockScript: resolveMockImdsEc2Script() });
    let moto: MotoServer | undefined;
    try {
      moto = await MotoServer.start(undefined, tb.nsName('host'), { host: '0.0.0.0' });
      const instanceId = await runInstance({ endpoint: moto.endpoint, netns: tb.nsName('host') }, { HttpTokens: 'optional', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 });
      await tb.mock.setOptions({ instanceId, followEc2: { endpoint: moto.endpointAt(tb.layout.host.v4), intervalMs: 200 } });
      return new ControlBed(tb, moto, instanceId, mkdtempSync(join(tmpdir(), 'imds-sniff-control-')));
    } catch (error) {
      await moto?.stop();
      await tb.destroy();
      throw error;
    }
  }

  async destroy(): Promise<void> {
    await this.moto.stop();
    await this.tb.destroy();
    await destroyStaleTestbeds(this.tb.prefix);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** moto as the host namespace reaches it. */
  get ec2(): Ec2CallTarget {
    return { endpoint: this.moto.endpoint, netns: this.tb.nsName('host') };
  }

  get stateDir(): string {
    return join(this.dir, 'state');
  }

  get eventsFile(): string {
    return join(this.dir, 'events.jsonl');
  }

  /** The control CLI in the host namespace ("this instance"), against moto unless `endpoint` is given. */
  cli(args: string[], options: { endpoint?: string; env?: NodeJS.ProcessEnv; ns?: string; withDefaults?: boolean } = {}): Promise<CliResult> {
    const defaults = options.withDefaults === false ? [] : ['--endpoint-url', options.endpoint ?? this.moto.endpoint, '--state-dir', this.stateDir, '--events-file', this.eventsFile];
    // status takes no --events-file
    const argv = args[0] === 'status' ? defaults.filter((_, i, a) => a[i] !== '--events-file' && a[i - 1] !== '--events-file') : defaults;
    const command = ['ip', 'netns', 'exec', options.ns ?? this.tb.nsName('host'), process.execPath, resolveAgentScript(), ...args, ...argv];
    return new Promise((resolve) => {
      execFile(command[0] as string, command.slice(1), { env: options.env ?? AWS_ENV, timeout: 120_000, encoding: 'utf8' }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : null;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** MetadataOptions of the instance as moto has them. */
  options(instanceId = this.instanceId): Promise<InstanceMetadataOptions> {
    return describeMetadataOptions(this.ec2, instanceId);
  }

  /** Sets options in moto directly ("someone else", or a reset between tests). */
  async setOptions(options: Record<string, unknown>, instanceId = this.instanceId): Promise<void> {
    await ec2Call(this.ec2, 'ModifyInstanceMetadataOptions', {
      InstanceId: instanceId,
      HttpTokens: 'optional',
      HttpEndpoint: 'enabled',
      HttpPutResponseHopLimit: 1,
      HttpProtocolIpv6: 'disabled',
      InstanceMetadataTags: 'disabled',
      ...options,
    });
  }

  /** Waits until a token-less curl from the host gets `status` (the mock follows moto every 200 ms). */
  async waitForV1Status(status: string, timeoutMs = 10_000): Promise<void> {
    let last = '';
    await waitUntil(async () => (last = (await curlV1(this.tb, 'host')).stdout) === status, timeoutMs, `IMDSv1 from the host to answer ${status}`, {
      intervalMs: 100, // each check is a curl, and the mock polls moto every 200 ms
      detail: () => `it still answers ${last}`,
    });
  }

  /** Back to IMDSv1 allowed, no records, no state. */
  async reset(): Promise<void> {
    await this.setOptions({});
    rmSync(this.stateDir, { recursive: true, force: true });
    rmSync(this.eventsFile, { force: true });
    await this.waitForV1Status('200');
  }

  /** Writes a state file as the daemon writes it: observing since `sinceMs`, updated now. */
  writeState(sinceMs: number, processes: Record<string, Partial<ProcessTotals>>, gaps: AgentState['gaps'] = []): void {
    const now = new Date().toISOString();
    const full: Record<string, ProcessTotals> = {};
    for (const [name, p] of Object.entries(processes)) {
      full[name] = { comm: name, exe: null, container_id: null, v1: 0, v2_token: 0, v2_get: 0, errors: 0, hop_limit_exceeded: 0, first_seen: now, last_seen: now, last_v1_seen: null, last_hop_limit_exceeded: null, ...p };
    }
    const state: AgentState = { version: 1, observing_since: new Date(sinceMs).toISOString(), updated: now, processes: full, gaps, extra: {} };
    mkdirSync(this.stateDir, { recursive: true });
    writeFileSync(join(this.stateDir, 'state.json'), JSON.stringify(state));
  }

  /** The audit lines written so far. */
  auditLines(): Record<string, unknown>[] {
    if (!existsSync(this.eventsFile)) return [];
    return readFileSync(this.eventsFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"metadata_options_change"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** The change record. */
  changes(): Record<string, unknown>[] {
    const path = join(this.stateDir, 'changes.json');
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { changes: Record<string, unknown>[] }).changes : [];
  }
}

/** stdout as the one JSON object `--format json` prints. */
export function json(result: CliResult): Record<string, any> {
  try {
    return JSON.parse(result.stdout) as Record<string, any>;
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}
