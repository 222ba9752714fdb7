// Puts metric datums into CloudWatch (run it inside the namespace where moto listens):
//   node cloudwatch-put.mjs <endpoint> <namespace> < datums.json   ([{MetricName, Dimensions, Value, Unit, Timestamp (ms)}] on stdin)
// sends them in batches of 1000 (PutMetricData's limit) and prints the number sent.
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';

const [endpoint, namespace] = process.argv.slice(2);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const datumsJson = Buffer.concat(chunks).toString('utf8');
const client = new CloudWatchClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const datums = JSON.parse(datumsJson).map((d) => ({ ...d, Timestamp: new Date(d.Timestamp) }));
for (let i = 0; i < datums.length; i += 1000) {
  await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: datums.slice(i, i + 1000) }));
}
process.stdout.write(String(datums.length));
