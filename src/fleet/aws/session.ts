// fleet/aws/: the admin host's AWS clients, per account and region: the caller's credentials, or a role assumed in each account; every call counted.

import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '../../aws/control-credentials.js';
import type { Scope } from '../model.js';

/** SDK attempts per call (adaptive mode: a client-side rate limiter slows down on throttling). */
const SDK_ATTEMPTS = 8;
const RENEW_MARGIN_MS = 5 * 60_000;

export interface FleetAwsOptions {
  /** One endpoint for every service (an emulator); null for AWS's own. */
  endpointUrl: string | null;
  /** Role to assume in each account other than the caller's; null: the caller's credentials everywhere. */
  roleName: string | null;
  /** Region for the global services (STS, Organizations). */
  homeRegion: string;
  credentials?: AwsCredentialIdentityProvider;
}

type Client = EC2Client | AutoScalingClient | CloudWatchClient | SSMClient | STSClient | OrganizationsClient;
/** The settings every client here gets (each service's config accepts them). */
interface CommonConfig {
  region: string;
  credentials: AwsCredentialIdentityProvider;
  endpoint?: string;
  maxAttempts: number;
  retryMode: string;
  requestHandler: { connectionTimeout: number; requestTimeout: number };
}
type ClientClass<C> = new (config: CommonConfig) => C;
/** The one middleware-stack call used here, alike on every client. */
interface CountingStack {
  add(
    middleware: (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => Promise<unknown>,
    options: { step: 'deserialize'; name: string },
  ): void;
}

/**
 * Hands out one client per service, account and region, with credentials for
 * that account, and counts every HTTP attempt per API action (`calls`).
 */
export class FleetAws {
  readonly calls: Record<string, number> = {};
  private readonly clients = new Map<string, Client>();
  private readonly roleCredentials = new Map<string, { current: Promise<AwsCredentialIdentity> | null }>();
  private readonly base: AwsCredentialIdentityProvider;
  private callerAccount: Promise<string> | null = null;

  constructor(private readonly options: FleetAwsOptions) {
    this.base = options.credentials ?? defaultProvider();
  }

  /** The caller's own account id (STS GetCallerIdentity). */
  account(): Promise<string> {
    this.callerAccount ??= this.sts().send(new GetCallerIdentityCommand({})).then((r) => r.Account ?? 'unknown');
    return this.callerAccount;
  }

  ec2(scope: Scope): EC2Client {
    return this.client(EC2Client as ClientClass<EC2Client>, scope);
  }

  autoScaling(scope: Scope): AutoScalingClient {
    return this.client(AutoScalingClient as ClientClass<AutoScalingClient>, scope);
  }

  cloudWatch(scope: Scope): CloudWatchClient {
    return this.client(CloudWatchClient as ClientClass<CloudWatchClient>, scope);
  }

  ssm(scope: Scope): SSMClient {
    return this.client(SSMClient as ClientClass<SSMClient>, scope);
  }

  organizations(): OrganizationsClient {
    return this.client(OrganizationsClient as ClientClass<OrganizationsClient>, null);
  }

  private sts(): STSClient {
    return this.client(STSClient as ClientClass<STSClient>, null);
  }

  /** Total HTTP attempts so far. */
  get totalCalls(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  private client<C extends Client>(Kind: ClientClass<C>, scope: Scope | null): C {
    const key = `${Kind.name}/${scope?.account ?? ''}/${scope?.region ?? ''}`;
    const known = this.clients.get(key);
    if (known) return known as C;
    const config: CommonConfig = {
      region: scope?.region ?? this.options.homeRegion,
      credentials: scope === null ? this.base : this.credentialsFor(scope.account),
      ...(this.options.endpointUrl === null ? {} : { endpoint: this.options.endpointUrl }),
      maxAttempts: SDK_ATTEMPTS,
      retryMode: 'adaptive',
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
    };
    const client = new Kind(config);
    // Inside the retry loop: one count per HTTP attempt, under the API action's name.
    (client.middlewareStack as unknown as CountingStack).add(
      (next, context) => (args) => {
        const action = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
        this.calls[action] = (this.calls[action] ?? 0) + 1;
        return next(args);
      },
      { step: 'deserialize', name: 'imdsSniffCallCounter' },
    );
    this.clients.set(key, client);
    return client;
  }

  /** The caller's credentials in its own account; elsewhere the assumed role's, renewed before they expire. */
  private credentialsFor(account: string): AwsCredentialIdentityProvider {
    return async () => {
      if (this.options.roleName === null || account === (await this.account())) return this.base();
      let slot = this.roleCredentials.get(account);
      if (!slot) {
        slot = { current: null };
        this.roleCredentials.set(account, slot);
      }
      const held = slot.current === null ? null : await slot.current.catch(() => null);
      if (held && (held.expiration === undefined || held.expiration.getTime() - Date.now() > RENEW_MARGIN_MS)) return held;
      slot.current = this.assume(account);
      return slot.current;
    };
  }

  private async assume(account: string): Promise<AwsCredentialIdentity> {
    const roleArn = `arn:aws:iam::${account}:role/${this.options.roleName ?? ''}`;
    const out = await this.sts().send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'imds-sniff-fleet', DurationSeconds: 3600 }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw Object.assign(new Error(`AssumeRole ${roleArn} returned no credentials`), { name: 'CredentialsProviderError' });
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
    };
  }
}
