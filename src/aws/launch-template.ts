// aws/: hardens a launch template: a new version with HttpTokens=required copied from the default one, optionally made the default.

import {
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  ModifyLaunchTemplateCommand,
  type EC2Client,
  type RequestLaunchTemplateData,
  type ResponseLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import { AwsApiError } from '../errors.js';
import { awsCall, dryRunIgnored, isDryRunSuccess, toAwsApiError, type AwsAction } from './aws-errors.js';

/** IAM actions `enforce --launch-template` and its rollback need. */
export const TEMPLATE_IAM_ACTIONS = ['ec2:DescribeLaunchTemplates', 'ec2:DescribeLaunchTemplateVersions', 'ec2:CreateLaunchTemplateVersion', 'ec2:ModifyLaunchTemplate'] as const;

export interface TemplateRef {
  client: EC2Client;
  region: string;
  /** `lt-…` id or the template's name. */
  idOrName: string;
}

export interface TemplateInfo {
  id: string;
  name: string;
  defaultVersion: number;
  latestVersion: number;
  /** The default version's metadata options as the template has them (fields left out mean the EC2 defaults). */
  defaultTokens: string | null;
  defaultData: ResponseLaunchTemplateData;
}

const ctx = (ref: TemplateRef, action: AwsAction) => ({ action, iamActions: TEMPLATE_IAM_ACTIONS, resource: ref.idOrName, region: ref.region });

/** True for a launch template id (`lt-0123…`), false for a name. */
export function isLaunchTemplateId(idOrName: string): boolean {
  return /^lt-[0-9a-f]+$/.test(idOrName);
}

/** The template and its default version's data. */
export async function describeTemplate(ref: TemplateRef): Promise<TemplateInfo> {
  const byId = isLaunchTemplateId(ref.idOrName);
  const list = await awsCall(ctx(ref, 'DescribeLaunchTemplates'), () =>
    ref.client.send(new DescribeLaunchTemplatesCommand(byId ? { LaunchTemplateIds: [ref.idOrName] } : { LaunchTemplateNames: [ref.idOrName] })),
  );
  const t = list.LaunchTemplates?.[0];
  if (t?.LaunchTemplateId === undefined) {
    throw new AwsApiError('ERR_AWS_LAUNCH_TEMPLATE_NOT_FOUND', `launch template ${ref.idOrName} not found in ${ref.region}`, { hint: 'check --launch-template and --region' });
  }
  const id = t.LaunchTemplateId;
  const versions = await awsCall(ctx(ref, 'DescribeLaunchTemplateVersions'), () =>
    ref.client.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['$Default'] })),
  );
  const data = versions.LaunchTemplateVersions?.[0]?.LaunchTemplateData ?? {};
  return {
    id,
    name: t.LaunchTemplateName ?? id,
    defaultVersion: t.DefaultVersionNumber ?? 1,
    latestVersion: t.LatestVersionNumber ?? 1,
    defaultTokens: data.MetadataOptions?.HttpTokens ?? null,
    defaultData: data,
  };
}

/**
 * The request data of a new version: the default version's data, as it is,
 * with HttpTokens=required (and the hop limit / endpoint asked for). The copy
 * is explicit instead of relying on SourceVersion alone (emulators do not
 * inherit it; EC2 accepts both).
 */
export function hardenedTemplateData(data: ResponseLaunchTemplateData, options: { hopLimit: number | null; disableEndpoint: boolean }): RequestLaunchTemplateData {
  const copy = structuredClone(data) as RequestLaunchTemplateData & { MetadataOptions?: Record<string, unknown> };
  const { State: _state, ...metadata } = (data.MetadataOptions ?? {}) as Record<string, unknown>;
  copy.MetadataOptions = {
    ...metadata,
    HttpTokens: 'required',
    HttpEndpoint: options.disableEndpoint ? 'disabled' : data.MetadataOptions?.HttpEndpoint ?? 'enabled',
    ...(options.hopLimit === null ? {} : { HttpPutResponseHopLimit: options.hopLimit }),
  };
  return copy;
}

/** Creates the hardened version; returns its number (null on a dry run that would have succeeded). */
export async function createHardenedVersion(ref: TemplateRef, info: TemplateInfo, data: RequestLaunchTemplateData, description: string, dryRun: boolean): Promise<number | null> {
  const command = new CreateLaunchTemplateVersionCommand({
    LaunchTemplateId: info.id,
    SourceVersion: String(info.defaultVersion),
    VersionDescription: description.slice(0, 255),
    LaunchTemplateData: data,
    DryRun: dryRun,
  });
  let answer;
  try {
    answer = await ref.client.send(command);
  } catch (error) {
    if (dryRun && isDryRunSuccess(error)) return null;
    throw toAwsApiError(error, ctx(ref, 'CreateLaunchTemplateVersion'));
  }
  if (dryRun) throw dryRunIgnored('CreateLaunchTemplateVersion', info.id);
  const version = answer.LaunchTemplateVersion?.VersionNumber;
  if (version === undefined) throw new AwsApiError('ERR_AWS_CREATE_LAUNCH_TEMPLATE_VERSION', `CreateLaunchTemplateVersion on ${info.id} returned no version number`);
  return version;
}

/** Makes `version` the template's default. */
export async function setDefaultVersion(ref: TemplateRef, id: string, version: number, dryRun: boolean): Promise<void> {
  try {
    await ref.client.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: id, DefaultVersion: String(version), DryRun: dryRun }));
  } catch (error) {
    if (dryRun && isDryRunSuccess(error)) return;
    throw toAwsApiError(error, ctx(ref, 'ModifyLaunchTemplate'));
  }
  if (dryRun) throw dryRunIgnored('ModifyLaunchTemplate', id);
}
