// fleet/dashboard/: pure: a CloudWatch dashboard body with Metrics Insights queries over the agents' metrics: top processes by IMDSv1 calls, and instances with calls per wave.

import type { FleetReport, Wave } from '../report/model.js';

/** Instance ids per Metrics Insights query: a WHERE of ORs stays well inside the query size limit. */
export const IDS_PER_QUERY = 40;
/** Instances per wave widget (10 queries). */
export const IDS_PER_WIDGET = 400;
const WAVE_NAMES: Record<Wave, string> = { 0: 'wave 0 (disposable)', 1: 'wave 1 (instance refresh)', 2: 'wave 2 (stateful / hand-built)' };

/** A name as a Metrics Insights string literal. */
function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A namespace as Metrics Insights wants it: double quotes when it holds anything but letters, digits and _. */
function namespaceRef(namespace: string): string {
  return /^[A-Za-z0-9_]+$/.test(namespace) ? namespace : `"${namespace.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export interface DashboardWidget {
  type: 'metric';
  x: number;
  y: number;
  width: number;
  height: number;
  properties: {
    title: string;
    region: string;
    view: 'timeSeries';
    stacked: boolean;
    period: number;
    stat: 'Sum';
    metrics: [{ expression: string; id: string; label: string }][];
  };
}

export interface DashboardBody {
  widgets: DashboardWidget[];
}

function widget(title: string, region: string, expressions: string[], y: number): DashboardWidget {
  return {
    type: 'metric', x: 0, y, width: 24, height: 6,
    properties: { title, region, view: 'timeSeries', stacked: false, period: 3600, stat: 'Sum', metrics: expressions.map((expression, i) => [{ expression, id: `q${i}`, label: '' }]) },
  };
}

/**
 * One dashboard for one account: per region, the top processes by IMDSv1
 * calls (GROUP BY Process), and per wave the instances that still call
 * (GROUP BY InstanceId, the wave's instances named in the WHERE).
 */
export function dashboardBody(report: FleetReport, account: string, namespace: string): DashboardBody {
  const ns = namespaceRef(namespace);
  const regions = [...new Set(report.instances.filter((v) => v.instance.account === account).map((v) => v.instance.region))].sort();
  const widgets: DashboardWidget[] = [];
  let y = 0;
  for (const region of regions) {
    widgets.push(widget(`IMDSv1 calls by process, top 10 (${region})`, region, [
      `SELECT SUM(IMDSv1Calls) FROM SCHEMA(${ns}, InstanceId, Process) GROUP BY Process ORDER BY SUM() DESC LIMIT 10`,
    ], y));
    y += 6;
    for (const wave of [0, 1, 2] as Wave[]) {
      const open = report.instances
        .filter((v) => v.instance.account === account && v.instance.region === region && v.wave === wave && v.instance.posture.allowsV1)
        .sort((a, b) => b.v1Calls - a.v1Calls || a.instance.id.localeCompare(b.instance.id));
      if (open.length === 0) continue;
      // The most calls first, and at most IDS_PER_WIDGET: a dashboard body has a size limit.
      const ids = open.slice(0, IDS_PER_WIDGET).map((v) => v.instance.id);
      const shown = ids.length < open.length ? `, the ${ids.length} with most calls of ${open.length} that allow IMDSv1` : `, ${open.length} still allow IMDSv1`;
      const expressions: string[] = [];
      for (let at = 0; at < ids.length; at += IDS_PER_QUERY) {
        const where = ids.slice(at, at + IDS_PER_QUERY).map((id) => `InstanceId = ${literal(id)}`).join(' OR ');
        expressions.push(`SELECT SUM(IMDSv1Calls) FROM SCHEMA(${ns}, InstanceId) WHERE ${where} GROUP BY InstanceId ORDER BY SUM() DESC LIMIT 20`);
      }
      widgets.push(widget(`Instances with IMDSv1 calls, ${WAVE_NAMES[wave]} (${region}${shown})`, region, expressions, y));
      y += 6;
    }
  }
  return { widgets };
}
