import { describe, expect, it } from 'vitest';
import { assembleScope } from '../../../src/fleet/inventory/assemble.js';
import { scopeAnswers } from './fixtures.js';

describe('assembleScope (DescribeInstances & co. answers → items)', () => {
  it('each instance: allows IMDSv1 and why, its group and launch template from the tags EC2 sets', () => {
    const { instances } = assembleScope(scopeAnswers());
    const by = Object.fromEntries(instances.map((i) => [i.id, { allows: i.posture.allowsV1, source: i.posture.source, group: i.autoScalingGroup, lt: i.launchTemplate?.id ?? null }]));
    expect(by).toEqual({
      'i-0000000000000web1': { allows: true, source: 'launch-template', group: 'web-asg', lt: 'lt-web' },
      'i-000000000000batch': { allows: false, source: 'ami', group: 'batch-asg', lt: 'lt-batch' },
      'i-0000000000000pet1': { allows: true, source: 'ec2-default', group: null, lt: null },
      'i-0000000000000pet2': { allows: false, source: 'explicit', group: null, lt: null },
      'i-0000000000000off1': { allows: false, source: 'explicit', group: null, lt: null },
    });
  });

  it('groups: what new launches get through $Default, $Latest and a launch configuration', () => {
    const { autoScalingGroups } = assembleScope(scopeAnswers());
    expect(autoScalingGroups.map((g) => [g.name, g.source.type === 'launch-template' ? `${g.source.id}@${g.source.version}=v${g.source.resolvedVersion}` : g.source.type, g.posture])).toEqual([
      ['batch-asg', 'lt-batch@$Latest=v1', { allowsV1: false, source: 'ami' }],
      ['legacy-asg', 'launch-configuration', { allowsV1: true, source: 'ec2-default' }],
      ['web-asg', 'lt-web@$Default=v1', { allowsV1: true, source: 'explicit' }],
    ]);
  });

  it('template versions and configurations list the groups that launch from them', () => {
    const items = assembleScope(scopeAnswers());
    expect(items.launchTemplateVersions.map((v) => [v.name, v.version, v.isDefault, v.isLatest, v.usedBy, v.posture.allowsV1])).toEqual([
      ['batch', 1, true, true, ['batch-asg'], false],
      ['web', 1, true, false, ['web-asg'], true],
      ['web', 2, false, true, [], false],
    ]);
    expect(items.launchConfigurations.map((l) => [l.name, l.usedBy, l.posture])).toEqual([
      ['hardened-lc', [], { allowsV1: false, source: 'explicit' }],
      ['legacy-lc', ['legacy-asg'], { allowsV1: true, source: 'ec2-default' }],
    ]);
  });

  it('an account default of required changes what unset launch paths get, not what explicit ones do', () => {
    const items = assembleScope(scopeAnswers({ metadataDefaults: { HttpTokens: 'required', ManagedBy: 'account' } }));
    expect(items.accountDefault).toMatchObject({ httpTokens: 'required', httpTokensEnforced: false, posture: { allowsV1: false, source: 'account-default' } });
    expect(items.launchConfigurations.find((l) => l.name === 'legacy-lc')?.posture).toEqual({ allowsV1: false, source: 'account-default' });
    expect(items.autoScalingGroups.find((g) => g.name === 'web-asg')?.posture).toEqual({ allowsV1: true, source: 'explicit' });
  });

  it('enforcement and a declarative policy are read from the defaults; unreadable defaults give no item', () => {
    expect(assembleScope(scopeAnswers({ metadataDefaults: { HttpTokensEnforced: 'enabled', ManagedBy: 'declarative-policy' } })).accountDefault)
      .toMatchObject({ httpTokens: null, httpTokensEnforced: true, managedBy: 'declarative-policy', posture: { allowsV1: false } });
    expect(assembleScope(scopeAnswers({ metadataDefaults: null })).accountDefault).toBeNull();
  });

  it('a group whose template version is gone has an unknown posture, not a guess', () => {
    const answers = scopeAnswers();
    answers.autoScalingGroups.push({ AutoScalingGroupName: 'orphan-asg', LaunchTemplate: { LaunchTemplateId: 'lt-gone', Version: '3' }, MinSize: 0, MaxSize: 1, DesiredCapacity: 0, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(0) });
    expect(assembleScope(answers).autoScalingGroups.find((g) => g.name === 'orphan-asg')?.posture).toBeNull();
  });
});
