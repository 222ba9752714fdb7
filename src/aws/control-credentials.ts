// aws/: AWS credentials for the control commands — the SDK chain, with the instance role read by imds-sniff itself (marked as its own).

import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { redactCmdline } from '../attribute/redact-cmdline.js';
import type { ImdsClient } from './imds-client.js';

/** What the SDK clients take as credentials (the shape of @smithy/types' AwsCredentialIdentity). */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

/** Renew the role credentials this long before they expire. */
const RENEW_MARGIN_MS = 5 * 60_000;

interface RoleCredentialsDocument {
  Code?: string;
  AccessKeyId?: string;
  SecretAccessKey?: string;
  Token?: string;
  Expiration?: string;
}

function credentialsError(message: string): Error {
  return Object.assign(new Error(message), { name: 'CredentialsProviderError' });
}

/** The instance profile's credentials from IMDS (IMDSv2), as the SDK's own provider would read them. */
export async function instanceRoleCredentials(imds: ImdsClient): Promise<AwsCredentialIdentity> {
  let role: string | undefined;
  let text: string | null;
  try {
    role = (await imds.get('/latest/meta-data/iam/security-credentials/'))?.split('\n')[0]?.trim();
    text = role ? await imds.get(`/latest/meta-data/iam/security-credentials/${encodeURIComponent(role)}`) : null;
  } catch (error) {
    throw credentialsError(`no credentials in the environment or profile, and IMDS gave none (${(error as Error).message})`);
  }
  if (!role || text === null) throw credentialsError('no credentials in the environment or profile, and no instance profile is attached');
  let doc: RoleCredentialsDocument;
  try {
    doc = JSON.parse(text) as RoleCredentialsDocument;
  } catch {
    throw credentialsError(`the instance profile's credentials from IMDS are not JSON`);
  }
  if (doc.Code !== 'Success' || !doc.AccessKeyId || !doc.SecretAccessKey) throw credentialsError(`the instance profile's credentials are not usable (Code ${doc.Code ?? 'missing'})`);
  return {
    accessKeyId: doc.AccessKeyId,
    secretAccessKey: doc.SecretAccessKey,
    ...(doc.Token ? { sessionToken: doc.Token } : {}),
    ...(doc.Expiration && !Number.isNaN(Date.parse(doc.Expiration)) ? { expiration: new Date(doc.Expiration) } : {}),
  };
}

/**
 * A credential source's error for the terminal: its first line, without the
 * command line of a failed credential_process (it may carry secrets) and with
 * secret-looking values redacted.
 */
export function safeMessage(message: string): string {
  const line = (message.split('\n')[0] ?? '').replace(/(Command failed)\b.*/i, '$1 (the credential_process command is not shown)');
  return redactCmdline(line.split(' ')).join(' ').slice(0, 300);
}

/** What the SDK chain throws when no source has credentials (any other failure is a source that is set up but broken). */
const NONE_FOUND = 'Could not load credentials from any providers';

/**
 * The standard chain (environment, profiles, SSO, web identity, container)
 * without its IMDS step, then the instance role read through `imds`: the SDK's
 * IMDS calls would carry its own User-Agent, and a running agent would count
 * imds-sniff as an IMDS caller (which blocks `enforce --disable-endpoint`).
 * The role is asked only when no source has credentials: a configured one that
 * fails (an expired SSO session, a bad AWS_PROFILE) is reported as it is, and
 * AWS_EC2_METADATA_DISABLED=true keeps IMDS out of it as it does for the SDK.
 */
export function controlCredentials(imds: ImdsClient): AwsCredentialIdentityProvider {
  const chain = defaultProvider();
  const imdsDisabled = process.env['AWS_EC2_METADATA_DISABLED']?.toLowerCase() === 'true';
  let cached: AwsCredentialIdentity | null = null;
  let pending: Promise<AwsCredentialIdentity> | null = null;
  const load = async (): Promise<AwsCredentialIdentity> => {
    // The chain reads this variable when it gets to its IMDS step: set only while it runs (one run at a time, see below).
    const previous = process.env['AWS_EC2_METADATA_DISABLED'];
    process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
    try {
      return await chain();
    } catch (error) {
      const message = (error as Error).message;
      if (message !== NONE_FOUND) throw credentialsError(`the configured credentials could not be loaded: ${safeMessage(message)}`);
      if (imdsDisabled) throw credentialsError('no credentials in the environment or profile, and AWS_EC2_METADATA_DISABLED=true rules out the instance profile');
      return await instanceRoleCredentials(imds);
    } finally {
      if (previous === undefined) delete process.env['AWS_EC2_METADATA_DISABLED'];
      else process.env['AWS_EC2_METADATA_DISABLED'] = previous;
    }
  };
  return async () => {
    if (cached && (cached.expiration === undefined || cached.expiration.getTime() - Date.now() > RENEW_MARGIN_MS)) return cached;
    // Callers at the same time share one load.
    pending ??= load().finally(() => {
      pending = null;
    });
    cached = await pending;
    return cached;
  };
}
