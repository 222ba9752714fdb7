// fleet/report/: pure: what to do about a program that still calls IMDSv1, from its name as the agents publish it (`program[@container]`).

/** The program part of a Process dimension value. */
export function programOf(process: string): string {
  const at = process.lastIndexOf('@');
  return at > 0 ? process.slice(0, at) : process;
}

const SDK_UPGRADE = 'upgrade its AWS SDK to a release with IMDSv2 support (AWS lists the minimum versions under "Use a supported AWS SDK" in the IMDSv2 transition guide)';

/** Known programs and the usual fix; the first match wins. */
const RULES: { test: RegExp; fix: string }[] = [
  { test: /^(curl|wget|http|nc|ncat)$/, fix: 'a script reads IMDS without a token: PUT /latest/api/token (header X-aws-ec2-metadata-token-ttl-seconds) first and send the token with each GET; the agent\'s events log has its command line' },
  { test: /^(sh|bash|dash|zsh|ash|busybox)$/, fix: 'a shell script reads IMDS without a token (see the command line in the agent\'s events log): fetch a token first' },
  { test: /^aws$/, fix: 'upgrade the AWS CLI (v2, or a v1 release with IMDSv2 support)' },
  { test: /^(python[\d.]*|pip[\d.]*|ansible.*|salt-.*)$/, fix: `a Python program: ${SDK_UPGRADE} (boto3/botocore)` },
  { test: /^(java|jsvc)$/, fix: `a Java program: ${SDK_UPGRADE} (AWS SDK for Java 1.x or 2.x)` },
  { test: /^(node|nodejs|npm)$/, fix: `a Node.js program: ${SDK_UPGRADE} (aws-sdk v2, or move to v3)` },
  { test: /^(ruby|bundle)$/, fix: `a Ruby program: ${SDK_UPGRADE}` },
  { test: /^(php|php-fpm.*)$/, fix: `a PHP program: ${SDK_UPGRADE}` },
  { test: /^(dotnet|mono)$/, fix: `a .NET program: ${SDK_UPGRADE}` },
  { test: /^(cloud-init|ec2-metadata|ec2metadata)$/, fix: 'an old image tool: update the AMI (cloud-init and ec2-metadata have used IMDSv2 for years)' },
  { test: /^(amazon-ssm-agent|ssm-agent-worker|amazon-cloudwatch-agent|ecs-agent|aws-otel-collector)$/, fix: 'an old AWS agent: update it from the AMI or its package repository' },
  { test: /^(telegraf|datadog-agent|newrelic-infra|fluent-bit|td-agent-bit|filebeat|metricbeat|collectd)$/, fix: 'a monitoring agent: update it to a release that uses IMDSv2' },
];

/** The usual fix for a program; a generic hint when it is not known. */
export function fixFor(process: string): string {
  const program = programOf(process);
  return RULES.find((r) => r.test.test(program))?.fix
    ?? `find its command line in the agent's events log on one of its instances (imds-sniff status), then ${SDK_UPGRADE} or fetch a token first`;
}
