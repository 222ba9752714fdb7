// Child-process side of the mock IMDS: parses argv, applies hop-limit rules, listens, prints "ready".

import { parseArgs } from 'node:util';
import { TestbedError } from '../errors.js';
import { applyHopLimitRules } from './hop-limit-nft.js';
import { MockImdsServer, type ListenAddress } from './mock-imds.js';
import { MockImdsControlServer } from './mock-imds-control-server.js';
import { MockImdsEc2Follower } from './mock-imds-ec2-follower.js';

/** Addresses the mock answers on inside the IMDS namespace. */
export const IMDS_LISTEN_ADDRESSES: readonly ListenAddress[] = [
  { host: '169.254.169.254', port: 80 },
  { host: 'fd00:ec2::254', port: 80 },
];

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
 * While the followEc2 option is set it polls an EC2 API for its own MetadataOptions
 * (mock-imds-ec2-follower.ts) and applies them as a control-socket change would.
 */
export async function runMockImdsProcess(argv: readonly string[]): Promise<RunningMockImds> {
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
  // The follower changes options through the control server's queue, exactly as PUT /options does.
  const follower = new MockImdsEc2Follower({ options: () => mock.options, apply: (patch) => control.applyOptions(patch) });
  const control = new MockImdsControlServer(mock, hook, (options) => follower.configure(options));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= Promise.all([mock.close(), control.close(), follower.stop()]).then(() => {
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
