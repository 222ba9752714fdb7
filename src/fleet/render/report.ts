// fleet/render/: pure: the fleet report as a table for people, CSV (one row per instance) or JSON.

import type { FleetReport, InstanceVerdict } from '../report/model.js';
import { csv } from './csv.js';
import { textTable } from './text-table.js';

const VERDICT_WORDS: Record<InstanceVerdict['verdict'], string> = {
  enforced: 'enforced',
  ready: 'ready',
  blocked: 'blocked',
  'v1-no-agent': 'IMDSv1 seen, no agent',
  'no-data': 'no data',
  exception: 'exception',
};

export function verdictWords(v: InstanceVerdict['verdict']): string {
  return VERDICT_WORDS[v];
}

export function reportText(r: FleetReport, opts: { allInstances?: boolean } = {}): string {
  const out: string[] = [];
  const t = r.totals;
  out.push(`IMDSv1 fleet report, ${r.windowDays} days to ${r.generatedAt}: ${r.instances.length} instances`);
  out.push(textTable(['verdict', 'instances'], Object.entries(t.byVerdict).map(([v, n]) => [verdictWords(v as InstanceVerdict['verdict']), n])));
  out.push('', 'Waves');
  out.push(textTable(['wave', 'instances', 'ready', 'blocked'], (['0', '1', '2'] as const).map((w) => [
    `${w} ${w === '0' ? '(disposable)' : w === '1' ? '(instance refresh)' : '(stateful / hand-built)'}`, t.byWave[w].instances, t.byWave[w].ready, t.byWave[w].blocked,
  ])));
  out.push('', 'Processes still calling IMDSv1');
  out.push(r.processes.length === 0 ? '(none)' : textTable(['program', 'instances', 'calls', 'fix'], r.processes.map((p) => [p.program, p.instances, p.calls, p.fix])));
  const paths = r.launchPaths.filter((p) => p.posture?.allowsV1 !== false);
  out.push('', `Launch paths that still allow IMDSv1 (${paths.length} of ${r.launchPaths.length})`);
  out.push(paths.length === 0 ? '(none)' : textTable(['account', 'region', 'kind', 'name', 'new launches', 'fix'], paths.map((p) => [p.account, p.region, p.kind, p.name, p.newLaunches, p.fix ?? '-'])));
  const shown = opts.allInstances ? r.instances : r.instances.filter((v) => v.verdict !== 'enforced' && v.verdict !== 'ready');
  out.push('', opts.allInstances ? 'Instances' : `Instances that need work (${shown.length}; --all for every instance)`);
  out.push(textTable(['account', 'region', 'instance', 'wave', 'verdict', 'detail'], shown.map((v) => [v.instance.account, v.instance.region, v.instance.id, v.wave, verdictWords(v.verdict), v.detail])));
  if (r.expiredExceptions.length > 0) out.push('', `Expired exceptions: ${r.expiredExceptions.join(' ')}`);
  return `${out.join('\n')}\n`;
}

const CSV_HEADER = ['account', 'region', 'instance_id', 'name', 'verdict', 'wave', 'wave_reason', 'agent', 'agent_days', 'imdsv1_calls', 'blockers', 'auto_scaling_group', 'http_tokens', 'exception', 'exception_until', 'exception_expired', 'detail'];

export function reportCsv(r: FleetReport): string {
  return csv(CSV_HEADER, r.instances.map((v) => [
    v.instance.account, v.instance.region, v.instance.id, v.instance.name, v.verdict, v.wave, v.waveReason, v.agent, v.agentDaysReported, v.v1Calls,
    v.blockers.map((b) => `${b.process}=${b.calls}`).join(' '), v.instance.autoScalingGroup, v.instance.metadata.httpTokens,
    v.exception?.reason ?? null, v.exception?.until ?? null, v.exception ? v.exception.expired : null, v.detail,
  ]));
}

export function reportJson(r: FleetReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
