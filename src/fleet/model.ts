// fleet/: the inventory's and the report's data: what was found in each account and region, and how it stands on IMDSv1.

/** One account in one region: the unit of collection, of the account defaults and of `fleet lock`. */
export interface Scope {
  account: string;
  region: string;
}

/**
 * Where an item's IMDSv1 answer comes from, in EC2's order of precedence at launch:
 * its own setting (instance, launch template, launch configuration), the account's
 * default in the region, the AMI's ImdsSupport, and last EC2's own default (optional).
 */
export type PostureSource = 'explicit' | 'launch-template' | 'account-default' | 'ami' | 'ec2-default';

/** Whether IMDSv1 is allowed, and why. */
export interface Posture {
  allowsV1: boolean;
  source: PostureSource;
}

/** HttpTokens as EC2 reports it on an instance, a launch template or a launch configuration. */
export type HttpTokens = 'optional' | 'required';

/** An instance's metadata options (DescribeInstances MetadataOptions). */
export interface InstanceMetadata {
  httpTokens: HttpTokens;
  hopLimit: number;
  endpoint: 'enabled' | 'disabled';
  ipv6: 'enabled' | 'disabled';
  tags: 'enabled' | 'disabled';
}

export interface InstanceItem extends Scope {
  kind: 'instance';
  id: string;
  state: string;
  type: string;
  name: string | null;
  tags: Record<string, string>;
  autoScalingGroup: string | null;
  /** The launch template and version it was launched from (its aws:ec2launchtemplate tags). */
  launchTemplate: { id: string; version: string } | null;
  imageId: string;
  /** The AMI's ImdsSupport (`v2.0`), null when unset or the AMI is gone. */
  imdsSupport: string | null;
  metadata: InstanceMetadata;
  posture: Posture;
}

export interface LaunchTemplateVersionItem extends Scope {
  kind: 'launch-template-version';
  id: string;
  name: string;
  version: number;
  isDefault: boolean;
  isLatest: boolean;
  /** Auto Scaling groups that launch from this version (by number, $Default or $Latest). */
  usedBy: string[];
  /** HttpTokens set in the version, null when it leaves it to the defaults. */
  httpTokens: HttpTokens | null;
  imageId: string | null;
  imdsSupport: string | null;
  posture: Posture;
}

export interface LaunchConfigurationItem extends Scope {
  kind: 'launch-configuration';
  name: string;
  usedBy: string[];
  httpTokens: HttpTokens | null;
  imageId: string | null;
  imdsSupport: string | null;
  posture: Posture;
}

/** What an Auto Scaling group launches from. */
export type LaunchSource =
  | { type: 'launch-template'; id: string; name: string; version: string; resolvedVersion: number | null; /** From a MixedInstancesPolicy. */ mixed: boolean }
  | { type: 'launch-configuration'; name: string }
  | { type: 'none' };

export interface AutoScalingGroupItem extends Scope {
  kind: 'auto-scaling-group';
  name: string;
  source: LaunchSource;
  instanceIds: string[];
  tags: Record<string, string>;
  /** What new launches get; allowsV1 null when the launch source was not found. */
  posture: Posture | null;
}

/** GetInstanceMetadataDefaults for one account and region. */
export interface AccountDefaultItem extends Scope {
  kind: 'account-default';
  /** null: no preference (the AMI and EC2's default decide). */
  httpTokens: HttpTokens | null;
  hopLimit: number | null;
  endpoint: 'enabled' | 'disabled' | null;
  /** Launches that would allow IMDSv1 are refused (HttpTokensEnforced=enabled). */
  httpTokensEnforced: boolean;
  /** `declarative-policy` when an AWS Organizations policy sets it (then it cannot be changed here). */
  managedBy: string | null;
  /** What a launch with nothing set gets. */
  posture: Posture;
}

/** A scope (or one call in it) that could not be read: the inventory says so instead of failing whole. */
export interface ScopeError extends Scope {
  what: string;
  code: string;
  message: string;
}

export interface Inventory {
  collectedAt: string;
  scopes: Scope[];
  instances: InstanceItem[];
  launchTemplateVersions: LaunchTemplateVersionItem[];
  launchConfigurations: LaunchConfigurationItem[];
  autoScalingGroups: AutoScalingGroupItem[];
  accountDefaults: AccountDefaultItem[];
  errors: ScopeError[];
  /** API calls made, per action (the scale figures). */
  calls: Record<string, number>;
}

/** Any inventory row. */
export type InventoryItem = InstanceItem | LaunchTemplateVersionItem | LaunchConfigurationItem | AutoScalingGroupItem | AccountDefaultItem;
