// Reads CloudWatch metric sums back (run inside the namespace where moto listens):
//   node cloudwatch-readback.mjs <endpoint> <namespace> <instanceId>
// prints {"<MetricName>|<Process or *>": sum, …} summed over the last hour.
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';

const [endpoint, namespace, instanceId] = process.argv.slice(2);
const client = new CloudWatchClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const listed = await client.send(new ListMetricsCommand({ Namespace: namespace }));
const seen = new Map();
for (const m of listed.Metrics ?? []) {
  const dims = m.Dimensions ?? [];
  if (!dims.some((d) => d.Name === 'InstanceId' && d.Value === instanceId)) continue;
  const key = `${m.MetricName}|${dims.find((d) => d.Name === 'Process')?.Value ?? '*'}|${dims.map((d) => d.Name).sort().join(',')}`;
  seen.set(key, m);
}
const out = {};
const now = Date.now();
for (const [key, m] of seen) {
  const r = await client.send(new GetMetricDataCommand({
    StartTime: new Date(now - 3600_000), EndTime: new Date(now + 120_000),
    MetricDataQueries: [{ Id: 'q', MetricStat: { Metric: { Namespace: namespace, MetricName: m.MetricName, Dimensions: m.Dimensions }, Period: 3600, Stat: 'Sum' } }],
  }));
  const sum = (r.MetricDataResults?.[0]?.Values ?? []).reduce((a, b) => a + b, 0);
  if (!key.endsWith('AutoScalingGroupName,InstanceId')) out[key.split('|').slice(0, 2).join('|')] = sum;
}
process.stdout.write(JSON.stringify(out));
