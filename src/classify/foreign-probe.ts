// classify/: recognises requests for another cloud's metadata paths (GCE, Azure, OCI…): probes that AWS answers 404, never IMDSv1 use.

/** The cloud whose metadata service a foreign probe looked for (event field `probe_cloud`). */
export type ProbeCloud = 'gce' | 'azure' | 'oci' | 'digitalocean' | 'openstack' | 'hetzner';

/** Every ProbeCloud, in README order. */
export const PROBE_CLOUDS: readonly ProbeCloud[] = ['gce', 'azure', 'oci', 'digitalocean', 'openstack', 'hetzner'];

/**
 * First path segments that only other clouds' metadata services serve at
 * 169.254.169.254. AWS IMDS serves `/`, `/latest/…` and `/<version>/…`
 * (`1.0`, `2009-04-04`…) and answers 404 to these, so no client can depend on
 * IMDSv1 for them; once tokens are required it answers 401, which a probe
 * treats as "not this cloud" all the same. Alibaba (100.100.100.200) and
 * Tencent use AWS-shaped paths: those requests stay `v1`.
 */
const FOREIGN_ROOTS: ReadonlyMap<string, ProbeCloud> = new Map([
  ['computeMetadata', 'gce'], // GCE: /computeMetadata/v1/…, Metadata-Flavor: Google
  ['metadata', 'azure'], // Azure IMDS: /metadata/instance?api-version=…, Metadata: true (DigitalOcean below)
  ['opc', 'oci'], // Oracle Cloud: /opc/v1/… and /opc/v2/… (Authorization: Bearer Oracle)
  ['openstack', 'openstack'], // OpenStack's own tree: /openstack/latest/meta_data.json
  ['hetzner', 'hetzner'], // Hetzner Cloud: /hetzner/v1/metadata
]);

/** DigitalOcean shares Azure's first segment: /metadata/v1/… and /metadata/v1.json. */
const DIGITALOCEAN_SECOND = /^v1(?:\.json)?$/;

/**
 * Characters of a plain origin-form path (RFC 3986 pchar and '/'), without
 * '%': a percent-encoded path, or one the parser had to sanitise or scrub
 * (`?`, `[redacted…]`, a cut `…`), may mean something else to the server.
 */
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;

/**
 * The cloud a request path belongs to when it is another cloud's metadata
 * path, else null. Path only: no header is needed or read (a path AWS never
 * serves cannot be an IMDSv1 dependency, whatever its headers), and a header
 * alone never makes an AWS path foreign. Strict, because a wrong answer would
 * hide an IMDSv1 caller from the enforce gate: exact, case-sensitive first
 * segment; no dot segment anywhere (`/opc/../latest/…` may be normalised by a
 * server); nothing encoded or sanitised.
 */
export function foreignProbeCloud(path: string): ProbeCloud | null {
  if (!PLAIN_PATH.test(path)) return null;
  const segments = path.split('/').slice(1);
  if (segments.some((s) => s === '.' || s === '..')) return null;
  const cloud = FOREIGN_ROOTS.get(segments[0] ?? '');
  if (cloud === undefined) return null;
  return cloud === 'azure' && DIGITALOCEAN_SECOND.test(segments[1] ?? '') ? 'digitalocean' : cloud;
}
