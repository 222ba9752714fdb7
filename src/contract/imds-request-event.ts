// contract/: the imds_request event, one per HTTP request to the metadata service (`--format json`, the events log, metrics).

import type { Ancestor, AttributionMethod } from '../attribute/types.js';
import type { RequestKind } from '../classify/classify.js';
import type { ProbeCloud } from '../classify/foreign-probe.js';

/** One HTTP request to the metadata service. Field names are the stable wire contract (README). */
export interface ImdsRequestEvent {
  event: 'imds_request';
  /** Capture time of the request, ISO 8601 with milliseconds. */
  time: string;
  kind: RequestKind;
  /** The cloud whose metadata path a `foreign_probe` asked for (`gce`, `azure`…); null for every other kind. */
  probe_cloud: ProbeCloud | null;
  method: string;
  path: string;
  /** HTTP status of the answer; null when none was captured. */
  status: number | null;
  /** The client's own address and port (before NAT). */
  src_ip: string;
  src_port: number;
  dst_ip: string;
  dst_port: number;
  /** Client addresses seen after NAT (empty when not NATed). */
  nat_src: string[];
  user_agent: string | null;
  pid: number | null;
  ppid: number | null;
  comm: string | null;
  exe: string | null;
  cmdline: string[] | null;
  uid: number | null;
  user: string | null;
  ancestors: Ancestor[];
  netns: number | null;
  cgroup: string | null;
  container_id: string | null;
  /** The pid inside the client's own pid namespace (a container's view, NSpid); null when it is the host's or unknown. */
  container_pid: number | null;
  attribution: AttributionMethod;
  /** The requested token lifetime of a token PUT (not a secret). */
  token_ttl_seconds: number | null;
  /** TTL / hop limit of the answer as captured here. */
  response_ttl: number | null;
  /** The client is behind a forwarding hop (container bridge/NAT). */
  forwarded: boolean;
  /** The answer's TTL could not survive the hop back to the client: raise HttpPutResponseHopLimit. */
  hop_limit_exceeded: boolean;
  /** Milliseconds from request to answer, capture time. */
  latency_ms: number | null;
  /** Connection number within this run, and the request's position on it (keep-alive). */
  connection: number;
  request_index: number;
  /** The request was made by imds-sniff itself: never counted as the workload's. */
  own: boolean;
}
