// fleet/report/: pure: what new launches get from each launch path (group, template version, configuration, account default), and the exact fix.

import { shellQuote } from '../../text/quote.js';
import type { AccountDefaultItem, AutoScalingGroupItem, Inventory, LaunchConfigurationItem, LaunchTemplateVersionItem, Posture } from '../model.js';
import type { LaunchPathFinding } from './model.js';

const SOURCE_WORDS: Record<Posture['source'], string> = {
  explicit: 'its own setting',
  'launch-template': 'its launch template',
  'account-default': 'the account default',
  ami: "the AMI's ImdsSupport",
  'ec2-default': "EC2's default",
};

function words(posture: Posture | null): string {
  if (posture === null) return 'unknown (launch source not found)';
  return `${posture.allowsV1 ? 'IMDSv1 allowed' : 'IMDSv2 required'} (${SOURCE_WORDS[posture.source]})`;
}

const REQUIRED = JSON.stringify({ MetadataOptions: { HttpTokens: 'required' } });

function templateFix(v: Pick<LaunchTemplateVersionItem, 'id' | 'version' | 'region'>): string {
  return `aws ec2 create-launch-template-version --region ${v.region} --launch-template-id ${v.id} --source-version ${v.version} --launch-template-data ${shellQuote(REQUIRED)}`;
}

function configurationFix(lc: LaunchConfigurationItem): string {
  const group = lc.usedBy[0] ?? '<group>';
  return `launch configurations cannot change: copy ${lc.name} with --metadata-options HttpTokens=required (or move to a launch template), then `
    + `aws autoscaling update-auto-scaling-group --region ${lc.region} --auto-scaling-group-name ${shellQuote(group)} --launch-configuration-name ${shellQuote(`${lc.name}-imdsv2`)}`;
}

function groupFix(g: AutoScalingGroupItem, inventory: Inventory): string | null {
  if (g.posture === null || !g.posture.allowsV1) return null;
  const source = g.source;
  if (source.type === 'launch-template') {
    const v = inventory.launchTemplateVersions.find((x) => x.id === source.id && x.version === source.resolvedVersion && x.account === g.account && x.region === g.region);
    if (!v) return null;
    const follow = source.version === '$Latest' ? 'the group follows $Latest' : `then aws autoscaling update-auto-scaling-group --region ${g.region} --auto-scaling-group-name ${shellQuote(g.name)} --launch-template ${shellQuote(`LaunchTemplateId=${v.id},Version=$Latest`)}`;
    return `${templateFix(v)}; ${follow}; then an instance refresh (aws autoscaling start-instance-refresh --auto-scaling-group-name ${shellQuote(g.name)})`;
  }
  if (source.type === 'launch-configuration') {
    const lc = inventory.launchConfigurations.find((x) => x.name === source.name && x.account === g.account && x.region === g.region);
    return lc ? configurationFix({ ...lc, usedBy: [g.name] }) : null;
  }
  return null;
}

function accountFix(d: AccountDefaultItem): string | null {
  if (d.managedBy === 'declarative-policy') return d.posture.allowsV1 ? 'set by an AWS Organizations declarative policy: change the policy' : null;
  if (!d.posture.allowsV1 && d.httpTokensEnforced) return null;
  return `imds-sniff fleet lock --accounts ${d.account} --regions ${d.region} (aws ec2 modify-instance-metadata-defaults --region ${d.region} --http-tokens required${d.httpTokensEnforced ? '' : ' [--http-tokens-enforced enabled]'})`;
}

/** Every launch path, those that still allow IMDSv1 first. */
export function launchPathFindings(inventory: Inventory): LaunchPathFinding[] {
  const out: LaunchPathFinding[] = [];
  for (const g of inventory.autoScalingGroups) {
    out.push({ kind: 'auto-scaling-group', account: g.account, region: g.region, name: g.name, posture: g.posture, newLaunches: words(g.posture), fix: groupFix(g, inventory) });
  }
  for (const v of inventory.launchTemplateVersions) {
    const role = [v.isDefault ? 'default' : '', v.isLatest ? 'latest' : '', v.usedBy.length > 0 ? `used by ${v.usedBy.join(', ')}` : ''].filter((s) => s !== '').join(', ');
    out.push({
      kind: 'launch-template-version', account: v.account, region: v.region, name: `${v.name} (${v.id}) v${v.version}${role ? ` [${role}]` : ''}`,
      posture: v.posture, newLaunches: words(v.posture), fix: v.posture.allowsV1 ? templateFix(v) : null,
    });
  }
  for (const lc of inventory.launchConfigurations) {
    out.push({ kind: 'launch-configuration', account: lc.account, region: lc.region, name: lc.name, posture: lc.posture, newLaunches: words(lc.posture), fix: lc.posture.allowsV1 ? configurationFix(lc) : null });
  }
  for (const d of inventory.accountDefaults) {
    const state = `HttpTokens ${d.httpTokens ?? 'no-preference'}${d.httpTokensEnforced ? ', enforced' : ''}${d.managedBy === 'declarative-policy' ? ', declarative policy' : ''}`;
    out.push({ kind: 'account-default', account: d.account, region: d.region, name: `account default (${state})`, posture: d.posture, newLaunches: words(d.posture), fix: accountFix(d) });
  }
  const rank = (f: LaunchPathFinding): number => (f.posture === null ? 1 : f.posture.allowsV1 ? 0 : 2);
  return out.sort((a, b) => rank(a) - rank(b) || a.account.localeCompare(b.account) || a.region.localeCompare(b.region) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}
