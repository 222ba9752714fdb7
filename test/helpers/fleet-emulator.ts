// Test helper: a proxy in front of moto_server for the fleet commands. It answers, in the real API's shape, what moto 5.2.1 lacks:
// EC2 GetInstanceMetadataDefaults / ModifyInstanceMetadataDefaults (per account and region) and an AMI's ImdsSupport
// (RegisterImage ImdsSupport=v2.0, ModifyImageAttribute ImdsSupport.Value, shown in DescribeImages); SSM Run Command's execution
// (moto records SendCommand but runs nothing: here each instance's command is handed to a host the test simulates, with
// SSM's MaxConcurrency and MaxErrors, and ListCommandInvocations answers with each host's status, exit code and output);
// Auto Scaling StartInstanceRefresh (recorded, answered with a refresh id);
// and it throttles on demand in each protocol's shape (moto never throttles). Everything else goes to moto unchanged.

import { randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { waitUntil } from './wait-until.js';

/** moto's account for the default (non-assumed) credentials. */
export const MOTO_DEFAULT_ACCOUNT = '123456789012';

interface Defaults {
  HttpTokens?: string;
  HttpPutResponseHopLimit?: string;
  HttpEndpoint?: string;
  InstanceMetadataTags?: string;
  HttpTokensEnforced?: string;
  ManagedBy?: string;
}

/** What one simulated host did with a Run Command invocation. */
export interface HostRun {
  status: 'Success' | 'Failed' | 'TimedOut' | 'Undeliverable';
  responseCode: number;
  output: string;
}

/** Runs one instance's command on the host the test simulates for it. */
export type HostHandler = (call: { instanceId: string; account: string; region: string; document: string; parameters: Record<string, string[]> }) => Promise<HostRun>;

interface Invocation {
  instanceId: string;
  status: 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'TimedOut' | 'Undeliverable' | 'Cancelled';
  responseCode: number;
  output: string;
}

/** SSM's limit on the plugin output ListCommandInvocations returns. */
const SSM_OUTPUT_CHARS = 2500;

/** "10", "10%": of `total`, at least 1 (MaxConcurrency); MaxErrors may be 0. */
function limitOf(value: string | undefined, total: number, least: number): number {
  if (value === undefined || value === '') return Math.max(least, 50);
  if (value.endsWith('%')) return Math.max(least, Math.floor((Number(value.slice(0, -1)) * total) / 100));
  return Math.max(least, Number(value));
}

/** One call as the emulator saw it. */
export interface SeenCall {
  service: string;
  action: string;
  account: string;
  region: string;
  throttled: boolean;
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export class FleetEmulator {
  readonly seen: SeenCall[] = [];
  private readonly defaults = new Map<string, Defaults>();
  private readonly imds = new Map<string, string>();
  /** AccessKeyId → account, learnt from AssumeRole answers (moto maps them the same way). */
  private readonly keyAccount = new Map<string, string>();
  private throttleRate = 0;
  private throttleActions: Set<string> | null = null;
  private readonly sockets = new Set<Socket>();
  private hostHandler: HostHandler | null = null;
  private readonly commands = new Map<string, { document: string; invocations: Invocation[] }>();
  /** Instance refreshes asked for (moto has no StartInstanceRefresh): account/region/group. */
  readonly instanceRefreshes: string[] = [];

  private constructor(private readonly server: Server, readonly port: number, private readonly targetPort: number) {}

  /**
   * Listens on 127.0.0.1 and forwards to moto on 127.0.0.1:`targetPort`; with `alsoOn`, on that
   * address too (the root end of a test's veth, for simulated hosts in a namespace), same port.
   */
  static async start(targetPort: number, alsoOn?: string): Promise<FleetEmulator> {
    let emulator: FleetEmulator | undefined;
    const listen = async (host: string, port: number): Promise<Server> => {
      const server = createServer((req, res) => void emulator?.handle(req, res));
      server.on('connection', (s) => {
        emulator?.sockets.add(s);
        s.once('close', () => emulator?.sockets.delete(s));
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, resolve);
      });
      return server;
    };
    const server = await listen('127.0.0.1', 0);
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('emulator has no port');
    emulator = new FleetEmulator(server, address.port, targetPort);
    if (alsoOn !== undefined) emulator.extra = await listen(alsoOn, address.port);
    return emulator;
  }

  private extra: Server | null = null;

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The endpoint on another address it listens on. */
  endpointAt(host: string): string {
    return `http://${host}:${this.port}`;
  }

  /** From now on, this share of calls (of these actions, or all) is answered as throttled. */
  throttle(rate: number, actions?: string[]): void {
    this.throttleRate = rate;
    this.throttleActions = actions ? new Set(actions) : null;
  }

  /** Who runs each instance's Run Command: without one, every invocation is Undeliverable (no SSM agent). */
  onRunCommand(handler: HostHandler | null): void {
    this.hostHandler = handler;
  }

  /** Resolves once every invocation of every command sent so far has a final status. */
  async commandsSettled(timeoutMs = 60_000): Promise<void> {
    const pending = (): boolean => [...this.commands.values()].some((c) => c.invocations.some((i) => i.status === 'Pending' || i.status === 'InProgress'));
    await waitUntil(() => !pending(), timeoutMs, 'every Run Command invocation to settle');
  }

  /** Sets an account's defaults in a region directly, e.g. ManagedBy=declarative-policy (an Organizations policy). */
  setDefaults(account: string, region: string, values: Defaults): void {
    this.defaults.set(`${account}/${region}`, { ...this.defaults.get(`${account}/${region}`), ...values });
  }

  getDefaults(account: string, region: string): Defaults {
    return { ...this.defaults.get(`${account}/${region}`) };
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const server of [this.server, this.extra]) if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const auth = String(req.headers['authorization'] ?? '');
    const [, key = '', region = 'us-east-1', service = 'unknown'] = /Credential=([^/]+)\/\d+\/([^/]+)\/([^/]+)\//.exec(auth) ?? [];
    const account = this.keyAccount.get(key) ?? MOTO_DEFAULT_ACCOUNT;
    const target = String(req.headers['x-amz-target'] ?? '');
    const form = target === '' ? new URLSearchParams(body.toString('utf8')) : new URLSearchParams();
    const action = target !== '' ? target.slice(target.lastIndexOf('.') + 1) : form.get('Action') ?? 'Unknown';
    const throttled = this.throttleRate > 0 && (this.throttleActions === null || this.throttleActions.has(action)) && Math.random() < this.throttleRate;
    this.seen.push({ service, action, account, region, throttled });
    if (throttled) return this.throttled(res, service, target !== '');
    const scopeKey = `${account}/${region}`;

    if (service === 'ec2' && action === 'GetInstanceMetadataDefaults') {
      const d = this.defaults.get(scopeKey) ?? {};
      const fields = Object.entries({
        httpTokens: d.HttpTokens, httpPutResponseHopLimit: d.HttpPutResponseHopLimit, httpEndpoint: d.HttpEndpoint,
        instanceMetadataTags: d.InstanceMetadataTags, managedBy: d.ManagedBy ?? 'account', httpTokensEnforced: d.HttpTokensEnforced,
      }).filter(([, v]) => v !== undefined).map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`).join('');
      return this.ec2Answer(res, action, `<accountLevel>${fields}</accountLevel>`);
    }
    if (service === 'ec2' && action === 'ModifyInstanceMetadataDefaults') {
      if (form.get('DryRun') === 'true') return this.ec2Error(res, 412, 'DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
      const current = this.defaults.get(scopeKey) ?? {};
      if (current.ManagedBy === 'declarative-policy') {
        return this.ec2Error(res, 400, 'UnsupportedOperation', 'The instance metadata defaults are managed by a declarative policy and cannot be changed in the account.');
      }
      const next: Defaults = { ...current };
      for (const name of ['HttpTokens', 'HttpPutResponseHopLimit', 'HttpEndpoint', 'InstanceMetadataTags', 'HttpTokensEnforced'] as const) {
        const v = form.get(name);
        if (v === null) continue;
        if (v === 'no-preference' || v === '-1') delete next[name];
        else next[name] = v;
      }
      this.defaults.set(scopeKey, next);
      return this.ec2Answer(res, action, '<return>true</return>');
    }
    if (service === 'ec2' && action === 'ModifyImageAttribute' && form.get('ImdsSupport.Value') !== null) {
      this.imds.set(`${scopeKey}/${form.get('ImageId') ?? ''}`, form.get('ImdsSupport.Value') ?? '');
      return this.ec2Answer(res, action, '<return>true</return>');
    }

    if (service === 'autoscaling' && action === 'StartInstanceRefresh') {
      this.instanceRefreshes.push(`${scopeKey}/${form.get('AutoScalingGroupName') ?? ''}`);
      const xml = `<StartInstanceRefreshResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><StartInstanceRefreshResult><InstanceRefreshId>${randomUUID()}</InstanceRefreshId></StartInstanceRefreshResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></StartInstanceRefreshResponse>`;
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(xml);
      return;
    }
    if (service === 'ssm' && action === 'GetCommandInvocation') {
      const ask = JSON.parse(body.toString('utf8') || '{}') as { CommandId?: string; InstanceId?: string };
      const inv = this.commands.get(ask.CommandId ?? '')?.invocations.find((i) => i.instanceId === ask.InstanceId);
      if (inv) {
        const [out = '', err = ''] = inv.output.split('\n----------ERROR-------\n');
        return this.jsonAnswer(res, { CommandId: ask.CommandId, InstanceId: inv.instanceId, Status: inv.status, StatusDetails: inv.status, ResponseCode: inv.responseCode, StandardOutputContent: out, StandardErrorContent: err });
      }
    }
    if (service === 'ssm' && action === 'ListCommandInvocations') {
      const ask = JSON.parse(body.toString('utf8') || '{}') as { CommandId?: string; Details?: boolean };
      const command = this.commands.get(ask.CommandId ?? '');
      if (command) return this.jsonAnswer(res, { CommandInvocations: command.invocations.map((i) => this.invocationJson(ask.CommandId ?? '', command.document, i, ask.Details === true)) });
    }

    const answer = await this.forward(req, body);
    if (service === 'ssm' && action === 'SendCommand' && answer.status === 200) this.startCommand(account, region, body, answer.body);
    let text = answer.body;
    if (service === 'ec2' && action === 'RegisterImage' && form.get('ImdsSupport') !== null) {
      const id = /<imageId>([^<]+)<\/imageId>/.exec(text.toString('utf8'))?.[1];
      if (id) this.imds.set(`${scopeKey}/${id}`, form.get('ImdsSupport') ?? '');
    }
    if (service === 'ec2' && action === 'DescribeImages') {
      text = Buffer.from(text.toString('utf8').replace(/<imageId>([^<]+)<\/imageId>/g, (m, id: string) => {
        const v = this.imds.get(`${scopeKey}/${id}`);
        return v === undefined ? m : `${m}<imdsSupport>${xmlEscape(v)}</imdsSupport>`;
      }));
    }
    if (service === 'sts' && action === 'AssumeRole' && answer.status === 200) {
      const s = text.toString('utf8');
      const akid = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(s)?.[1];
      const acct = /<Arn>arn:aws:sts::(\d{12}):assumed-role\//.exec(s)?.[1];
      if (akid && acct) this.keyAccount.set(akid, acct);
    }
    const headers: Record<string, string | string[] | undefined> = { ...answer.headers, 'content-length': String(text.length) };
    delete headers['transfer-encoding'];
    res.writeHead(answer.status, headers);
    res.end(text);
  }

  /** Runs a sent command's invocations on the simulated hosts, MaxConcurrency at a time, stopping after MaxErrors failures. */
  private startCommand(account: string, region: string, request: Buffer, answer: Buffer): void {
    const sent = JSON.parse(request.toString('utf8')) as { DocumentName?: string; InstanceIds?: string[]; Parameters?: Record<string, string[]>; MaxConcurrency?: string; MaxErrors?: string };
    const commandId = (JSON.parse(answer.toString('utf8')) as { Command?: { CommandId?: string } }).Command?.CommandId;
    if (!commandId) return;
    const ids = sent.InstanceIds ?? [];
    const invocations: Invocation[] = ids.map((instanceId) => ({ instanceId, status: 'Pending', responseCode: -1, output: '' }));
    const document = sent.DocumentName ?? '';
    this.commands.set(commandId, { document, invocations });
    const concurrency = limitOf(sent.MaxConcurrency, ids.length, 1);
    const maxErrors = limitOf(sent.MaxErrors, ids.length, 0);
    let errors = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < invocations.length) {
        const inv = invocations[next++] as Invocation;
        if (errors > maxErrors) {
          inv.status = 'Cancelled';
          continue;
        }
        inv.status = 'InProgress';
        const handler = this.hostHandler;
        const run: HostRun = handler === null
          ? { status: 'Undeliverable', responseCode: -1, output: '' }
          : await handler({ instanceId: inv.instanceId, account, region, document, parameters: sent.Parameters ?? {} }).catch((e: unknown) => ({ status: 'Failed' as const, responseCode: 1, output: String(e) }));
        Object.assign(inv, { status: run.status, responseCode: run.responseCode, output: run.output });
        if (run.status !== 'Success') errors += 1;
      }
    };
    void Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, ids.length)) }, worker));
  }

  private invocationJson(commandId: string, document: string, i: Invocation, details: boolean): Record<string, unknown> {
    const plugin = { Name: 'aws:runShellScript', Status: i.status, StatusDetails: i.status, ResponseCode: i.responseCode, Output: i.output.slice(0, SSM_OUTPUT_CHARS) };
    return { CommandId: commandId, InstanceId: i.instanceId, DocumentName: document, Status: i.status, StatusDetails: i.status, ...(details ? { CommandPlugins: [plugin] } : {}) };
  }

  private jsonAnswer(res: ServerResponse, value: unknown): void {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(value));
  }

  private forward(req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const upstream = request({ host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
        const parts: Buffer[] = [];
        up.on('data', (c: Buffer) => parts.push(c));
        up.once('end', () => resolve({ status: up.statusCode ?? 502, headers: { ...up.headers }, body: Buffer.concat(parts) }));
        up.once('error', reject);
      });
      upstream.once('error', reject);
      upstream.end(body);
    });
  }

  private ec2Answer(res: ServerResponse, action: string, inner: string): void {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${randomUUID()}</requestId>${inner}</${action}Response>`;
    res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' });
    res.end(xml);
  }

  private ec2Error(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`);
  }

  /** A throttling answer in the protocol of the call: EC2's RequestLimitExceeded, the query services' Throttling, a JSON ThrottlingException. */
  private throttled(res: ServerResponse, service: string, json: boolean): void {
    if (service === 'ec2') return this.ec2Error(res, 503, 'RequestLimitExceeded', 'Request limit exceeded.');
    if (json) {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-query-error': 'Throttling;Sender' });
      res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
      return;
    }
    res.writeHead(400, { 'content-type': 'text/xml' });
    res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
  }
}
