// Child-process side of the mock IMDS: parses argv, applies hop-limit rules, listens, prints "ready".

import { parseArgs } from 'node:util';
import { TestbedError } from '../errors.js';
import { applyHopLimitRules } from './hop-limit-nft.js';
import { MockImdsServer, type ListenAddress } from './mock-imds.js';
import { MockImdsControlServer } from './mock-imds-control-server.js';
import type { MockImdsOptions, MockImdsOptionsPatch } from './mock-imds-options.js';
import { IMDS_IPV4, IMDS_IPV6, IMDS_PORT } from '../imds-endpoint.js';

/** Addresses the mock answers on inside the IMDS namespace. */
export const IMDS_LISTEN_ADDRESSES: readonly ListenAddress[] = [
  { host: IMDS_IPV4, port: IMDS_PORT },
  { host: IMDS_IPV6, port: IMDS_PORT },
];

/** What a plug-in may use of the running mock. */
export interface MockImdsPluginHost {
  /** The options in force. */
  options: () => MockImdsOptions;
  /** Applies a patch exactly as a control-socket setOptions does (queued, hop-limit rules first). */
  apply: (patch: MockImdsOptionsPatch) => Promise<unknown>;
}

/**
 * Behaviour a caller adds to the mock process, e.g. the tests' EC2 follower
 * (test/helpers/mock-imds-ec2-follower.ts): told the options after every change, stopped with the mock.
 */
export interface MockImdsPlugin {
  configure(options: MockImdsOptions): void;
  stop(): Promise<void>;
}

/** Makes a plug-in once the mock's options and control queue exist. */
export type MockImdsPluginFactory = (host: MockImdsPluginHost) => MockImdsPlugin;

/** The line printed on stdout once every listener and the control socket are up. */
export interface MockImdsReadyLine {
  ready: true;
  pid: number;
  listen: { address: string; port: number }[];
  control: string;
}

/** A running mock process; stop() closes everything so the process exits on its own. */
export interface RunningMockImds {
  mock: MockImdsServer;
  stop(): Promise<void>;
}

/** Parses "1.2.3.4:80" or "[fd00::1]:80". */
export function parseListenAddress(text: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (match === null || port > 65_535) throw new TestbedError(`bad --listen address ${text}, expected host:port or [v6]:port`);
  return { host: match[1] ?? match[2] ?? '', port };
}

/**
 * Runs the mock IMDS as a process (normally under `ip netns exec <imds-ns>`).
 * argv: `--control <socket>` (required), `--listen <host:port>` (repeatable; default
 * 169.254.169.254:80 and [fd00:ec2::254]:80), `--no-nft` (skip hop-limit rules, e.g.
 * outside a namespace). Prints one JSON MockImdsReadyLine when ready. It stops on
 * SIGTERM/SIGINT or when stdin closes, so a crashed parent does not leave it behind.
 * `plugins` add behaviour (the tests pass an EC2 follower, which serves the followEc2
 * option); without one, a followEc2 option is noted on stderr and otherwise has no effect.
 */
export async function runMockImdsProcess(argv: readonly string[], plugins: readonly MockImdsPluginFactory[] = []): Promise<RunningMockImds> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      control: { type: 'string' },
      listen: { type: 'string', multiple: true },
      'no-nft': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.control === undefined) throw new TestbedError('mock IMDS needs --control <socket path>');
  const addresses = values.listen?.map(parseListenAddress) ?? [...IMDS_LISTEN_ADDRESSES];
  const useNft = values['no-nft'] !== true;

  const mock = new MockImdsServer();
  const hook = useNft ? (hopLimit: number) => applyHopLimitRules(hopLimit) : undefined;
  // Plug-ins change options through the control server's queue, exactly as PUT /options does.
  const host: MockImdsPluginHost = { options: () => mock.options, apply: (patch) => control.applyOptions(patch) };
  const running = plugins.map((make) => make(host));
  const onApplied = (options: MockImdsOptions): void => {
    if (running.length === 0 && options.followEc2 !== null) process.stderr.write('mock-imds: followEc2 is set, but this mock runs no EC2 follower plug-in\n');
    for (const plugin of running) plugin.configure(options);
  };
  const control = new MockImdsControlServer(mock, hook, onApplied);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= Promise.all([mock.close(), control.close(), ...running.map((plugin) => plugin.stop())]).then(() => {
      process.stdin.destroy();
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
    return stopping;
  };
  const onSignal = (): void => void stop();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.stdin.on('end', onSignal).on('error', onSignal).resume();

  try {
    await hook?.(mock.options.hopLimit);
    const bound = [];
    for (const address of addresses) bound.push(await mock.listen(address));
    await control.listen(values.control);
    const line: MockImdsReadyLine = {
      ready: true,
      pid: process.pid,
      listen: bound.map((b) => ({ address: b.address, port: b.port })),
      control: values.control,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { mock, stop };
}
