// aws/: AWS credentials for the control commands — the SDK chain, with the instance role read by imds-sniff itself (marked as its own).

import { defaultProvider } from '@aws-sdk/credential-provider-node';
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
 * The standard chain (environment, profiles, SSO, web identity, container)
 * without its IMDS step, then the instance role read through `imds`: the SDK's
 * IMDS calls would carry its own User-Agent, and a running agent would count
 * imds-sniff as an IMDS caller (which blocks `enforce --disable-endpoint`).
 */
export function controlCredentials(imds: ImdsClient): AwsCredentialIdentityProvider {
  const chain = defaultProvider();
  let cached: AwsCredentialIdentity | null = null;
  return async () => {
    if (cached && (cached.expiration === undefined || cached.expiration.getTime() - Date.now() > RENEW_MARGIN_MS)) return cached;
    const previous = process.env['AWS_EC2_METADATA_DISABLED'];
    process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
    try {
      cached = await chain();
    } catch {
      cached = await instanceRoleCredentials(imds);
    } finally {
      if (previous === undefined) delete process.env['AWS_EC2_METADATA_DISABLED'];
      else process.env['AWS_EC2_METADATA_DISABLED'] = previous;
    }
    return cached;
  };
}
