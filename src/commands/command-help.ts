// commands/: help texts of the commands whose code loads only when they run. Kept apart from
// the commands so that registering them loads nothing heavy: status, enforce and rollback the
// AWS SDK's EC2 client (~100 MB RSS), daemon pino and the CloudWatch client (~35 MiB), demo
// the testbed. A capture (`imds-sniff --duration …`) loads none of them.

export const STATUS_HELP = `
Reads the options with ec2:DescribeInstances and what the agent saw from its state file
(this instance) or from its CloudWatch metrics (--instance-id of another instance).
Exit code 0: ready or already enforced; 3: not ready (or enforced while containers lose their
tokens at hop limit 1); 2, 5: see README "Exit codes".

Examples:
  imds-sniff status
  imds-sniff status --format json
  imds-sniff status --instance-id i-0123456789abcdef0 --region eu-west-1`;

export const ENFORCE_HELP = `
Sets HttpTokens=required (HttpEndpoint stays enabled) with ec2:ModifyInstanceMetadataOptions once the
agent has observed the instance for --min-observation with no IMDSv1 call; waits until EC2 reports
the change applied, then checks IMDS on this host: a token-less GET must get 401, an IMDSv2 GET 200.
The previous options are recorded (<stateDir>/changes.json) for imds-sniff rollback; each change
is one audit line in the events log.
Exit codes: 0 done (or nothing to do), 6 the gate refused or another enforce/rollback runs
(nothing changed), 7 applied but not verified, 5 AWS error (with no answer to the change itself:
it may have been made, see imds-sniff status), 2 bad flag or the record cannot be written.

Examples:
  imds-sniff enforce --dry-run
  imds-sniff enforce
  imds-sniff enforce --min-observation 72h --hop-limit 2
  imds-sniff enforce --instance-id i-0123456789abcdef0 --region eu-west-1
  imds-sniff enforce --launch-template lt-0123456789abcdef0 --set-default`;

export const ROLLBACK_HELP = `
Restores what the last imds-sniff enforce recorded in <stateDir>/changes.json on this host: the
instance's previous metadata options (then waits for State=applied and checks IMDS here), or the
launch template's previous default version. Refuses (exit 6) when the instance was changed by
someone else since; --force restores anyway.

Examples:
  imds-sniff rollback
  imds-sniff rollback --instance-id i-0123456789abcdef0 --region eu-west-1
  imds-sniff rollback --launch-template lt-0123456789abcdef0`;

export const DAEMON_HELP = `
Runs until SIGTERM or SIGINT (then flushes metrics, the state file and logs and exits 0).
SIGHUP reopens the events log (logrotate) and reloads the config file.
Flags override the config file (default /etc/imds-sniff/config.json; see README "Configuration").

Examples:
  imds-sniff daemon
  imds-sniff daemon --config /etc/imds-sniff/config.json --metrics-sink emf
  imds-sniff daemon --endpoint-url http://127.0.0.1:5000 --instance-id i-0123456789abcdef0 --region us-east-1`;

export const DEMO_HELP = `
Needs root, iproute2 and nftables (scripts/setup.sh installs them). Everything
it creates lives in three network namespaces, imdsdemo<pid>-host, -imds and
-ctr, removed at the end, also on Ctrl-C. No traffic leaves them.`;
