// fleet/aws/: reads and sets an account's instance metadata defaults in a region (Get/ModifyInstanceMetadataDefaults).

import { GetInstanceMetadataDefaultsCommand, ModifyInstanceMetadataDefaultsCommand } from '@aws-sdk/client-ec2';
import type { HttpTokens, Scope } from '../model.js';
import type { FleetAws } from './session.js';
import { throttleSafe } from './throttle-safe.js';

export interface DefaultsState {
  httpTokens: HttpTokens | null;
  httpTokensEnforced: boolean;
}

export async function readDefaults(aws: FleetAws, scope: Scope): Promise<DefaultsState> {
  const out = await throttleSafe(() => aws.ec2(scope).send(new GetInstanceMetadataDefaultsCommand({})));
  const t = out.AccountLevel?.HttpTokens;
  return { httpTokens: t === 'optional' || t === 'required' ? t : null, httpTokensEnforced: out.AccountLevel?.HttpTokensEnforced === 'enabled' };
}

/** Sets HttpTokens (null: no-preference) and HttpTokensEnforced; throttling retried, nothing else. */
export async function writeDefaults(aws: FleetAws, scope: Scope, state: DefaultsState): Promise<void> {
  await throttleSafe(() => aws.ec2(scope).send(new ModifyInstanceMetadataDefaultsCommand({
    HttpTokens: state.httpTokens ?? 'no-preference',
    HttpTokensEnforced: state.httpTokensEnforced ? 'enabled' : 'disabled',
  })));
}
