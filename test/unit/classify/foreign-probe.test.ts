// Unit tests: other clouds' metadata probes are `foreign_probe`, by path only; AWS paths stay `v1` whatever their headers.
import { describe, expect, it } from 'vitest';
import { classifyRequest, probeCloudOf } from '../../../src/classify/classify.js';
import { foreignProbeCloud } from '../../../src/classify/foreign-probe.js';
import { RequestParser, type HttpRequest } from '../../../src/http/request.js';

/** Parses one request head as it went over the wire. */
function parse(head: string): HttpRequest {
  const { requests, error } = new RequestParser().push(Buffer.from(head.replace(/\n/g, '\r\n'), 'latin1'));
  expect(error).toBeNull();
  expect(requests).toHaveLength(1);
  return requests[0] as HttpRequest;
}

describe('recorded probes (request heads from fixtures/pcap/foreign-probes.pcap)', () => {
  it.each([
    ['gcp-metadata 8.1.4 isAvailable()', 'GET /computeMetadata/v1/instance HTTP/1.1\naccept: */*\naccept-encoding: gzip, deflate, br\nmetadata-flavor: Google\nuser-agent: node-fetch\nHost: 169.254.169.254\nConnection: keep-alive\n\n', 'foreign_probe', 'gce'],
    ['curl, Azure IMDS', 'GET /metadata/instance?api-version=2021-02-01 HTTP/1.1\nHost: 169.254.169.254\nUser-Agent: curl/7.88.1\nAccept: */*\nMetadata: true\n\n', 'foreign_probe', 'azure'],
    ['curl, OCI IMDSv2', 'GET /opc/v2/instance/ HTTP/1.1\nHost: 169.254.169.254\nUser-Agent: curl/7.88.1\nAccept: */*\nAuthorization: Bearer Oracle\n\n', 'foreign_probe', 'oci'],
    ['curl, DigitalOcean', 'GET /metadata/v1.json HTTP/1.1\nHost: 169.254.169.254\nUser-Agent: curl/7.88.1\nAccept: */*\n\n', 'foreign_probe', 'digitalocean'],
    ['curl, OpenStack', 'GET /openstack/latest/meta_data.json HTTP/1.1\nHost: 169.254.169.254\nUser-Agent: curl/7.88.1\nAccept: */*\n\n', 'foreign_probe', 'openstack'],
    ['curl, Hetzner', 'GET /hetzner/v1/metadata HTTP/1.1\nHost: 169.254.169.254\nUser-Agent: curl/7.88.1\nAccept: */*\n\n', 'foreign_probe', 'hetzner'],
    ["curl, GCE's header on the AWS root", 'GET / HTTP/1.1\nHost: 169.254.169.254\nUser-Agent: curl/7.88.1\nAccept: */*\nMetadata-Flavor: Google\n\n', 'v1', null],
    ['curl --path-as-is, a dot segment back into /latest', 'GET /opc/../latest/meta-data/instance-id HTTP/1.1\nHost: 169.254.169.254\nUser-Agent: curl/7.88.1\nAccept: */*\n\n', 'v1', null],
  ])('%s → %s %s', (_client, head, kind, cloud) => {
    const request = parse(head);
    const k = classifyRequest(request);
    expect(k).toBe(kind);
    expect(probeCloudOf(request, k)).toBe(cloud);
  });
});

describe('classifyRequest: AWS paths stay IMDSv1, always', () => {
  it.each([
    ['GET /latest/meta-data/ HTTP/1.1\nMetadata-Flavor: Google\n\n'],
    ['GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\nMetadata: true\n\n'],
    ['GET /2009-04-04/meta-data/instance-id HTTP/1.1\nMetadata-Flavor: Google\n\n'],
    ['GET /1.0/meta-data/ HTTP/1.1\n\n'],
    ['HEAD / HTTP/1.1\nMetadata-Flavor: Google\n\n'],
    ['GET /latest/computeMetadata/v1/ HTTP/1.1\n\n'], // another cloud's name further down an AWS path
    ['GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\nMetadata-Flavor: Google\n\n'], // absolute form
  ])('%j → v1', (head) => {
    expect(classifyRequest(parse(head))).toBe('v1');
  });

  it.each([
    ['a token GET on a foreign path is still IMDSv2', 'GET /computeMetadata/v1/ HTTP/1.1\nX-aws-ec2-metadata-token: x\n\n', 'v2_get'],
    ['the token PUT', 'PUT /latest/api/token HTTP/1.1\nX-aws-ec2-metadata-token-ttl-seconds: 60\n\n', 'v2_token'],
    ['a POST to a foreign path (Azure scheduled events)', 'POST /metadata/scheduledevents HTTP/1.1\nMetadata: true\nContent-Length: 0\n\n', 'foreign_probe'],
    ['absolute form to a foreign path', 'GET http://169.254.169.254/computeMetadata/v1/instance HTTP/1.1\n\n', 'foreign_probe'],
  ])('%s → %s', (_label, head, kind) => {
    expect(classifyRequest(parse(head))).toBe(kind);
  });
});

describe('foreignProbeCloud: strict, path only', () => {
  it.each([
    ['/computeMetadata/v1/instance/service-accounts/default/token', 'gce'],
    ['/computeMetadata', 'gce'],
    ['/metadata/identity/oauth2/token', 'azure'],
    ['/metadata/instance/compute', 'azure'],
    ['/metadata/v1/id', 'digitalocean'],
    ['/metadata/v1', 'digitalocean'],
    ['/metadata/v1.jsonx', 'azure'],
    ['/opc/v1/instance/', 'oci'],
    ['/openstack/latest/meta_data.json', 'openstack'],
    ['/hetzner/v1/metadata/hostname', 'hetzner'],
  ])('%s → %s', (path, cloud) => {
    expect(foreignProbeCloud(path)).toBe(cloud);
  });

  it.each([
    ['/', 'the AWS root'],
    ['/latest/meta-data/', 'AWS latest'],
    ['/2009-04-04/meta-data/', 'an AWS version'],
    ['//computeMetadata/v1/', 'an empty first segment'],
    ['/ComputeMetadata/v1/', 'another case'],
    ['/computemetadata/v1/', 'another case'],
    ['/computeMetadata/../latest/meta-data/', 'a dot segment'],
    ['/opc/./v1/', 'a dot segment'],
    ['/%63omputeMetadata/v1/', 'percent-encoded'],
    ['/opc/%2e%2e/latest/meta-data/', 'an encoded dot segment'],
    ['/computeMetadata\\..\\latest', 'a backslash'],
    ['/computeMetadata/v1/?', 'a sanitised byte'],
    ['/computeMetadata/v1/[redacted:40]', 'a scrubbed piece'],
    ['/computeMetadata/v1/abc…', 'a cut path'],
    ['[not a path]', 'no path at all'],
    ['*', 'asterisk form'],
    ['/v1.json', 'Vultr (not recognised: shares /v1 with Linode)'],
    ['/openstackx/latest', 'a longer first segment'],
  ])('%s (%s) → null', (path) => {
    expect(foreignProbeCloud(path)).toBeNull();
  });
});
