// Runs one EC2 API call with the AWS SDK (run it inside the namespace where the endpoint listens):
//   node ec2-call.mjs <endpoint> <Command, e.g. DescribeInstances> '<input JSON>' [region, default us-east-1]
// prints the output as JSON; an API error prints {"error":{"name","message","status"}} and exits 3.
import * as ec2 from '@aws-sdk/client-ec2';

const [endpoint, command, input = '{}', region = 'us-east-1'] = process.argv.slice(2);
const Command = ec2[`${command}Command`];
if (typeof Command !== 'function') {
  process.stderr.write(`ec2-call: no EC2 command ${command}\n`);
  process.exit(2);
}
const client = new ec2.EC2Client({ region, endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
try {
  const { $metadata: _metadata, ...output } = await client.send(new Command(JSON.parse(input)));
  process.stdout.write(JSON.stringify(output));
} catch (error) {
  if (error?.$metadata === undefined) throw error;
  process.stdout.write(JSON.stringify({ error: { name: error.name, message: error.message, status: error.$metadata.httpStatusCode ?? null } }));
  process.exitCode = 3;
}
