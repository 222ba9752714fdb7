// Mock IMDS content: maps a metadata path to the text the real service answers (pure, no I/O).

import type { MockImdsOptions } from './mock-imds-options.js';

/** A directory of the metadata tree: leaves are the served text, subtrees end in '/' in listings. */
interface MetadataTree {
  [name: string]: string | MetadataTree;
}

/** What a GET of one metadata path answers. */
export interface RouteAnswer {
  status: 200 | 404;
  body: string;
}

/** The XHTML error page real IMDS sends with 4xx answers, e.g. errorPage(401, 'Unauthorized'). */
export function errorPage(status: number, reason: string): string {
  return (
    '<?xml version="1.0" encoding="iso-8859-1"?>\n' +
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n' +
    '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n' +
    '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n' +
    ` <head>\n  <title>${status} - ${reason}</title>\n </head>\n <body>\n  <h1>${status} - ${reason}</h1>\n </body>\n</html>\n`
  );
}

const NOT_FOUND: RouteAnswer = { status: 404, body: errorPage(404, 'Not Found') };

/** Real IMDS pretty-prints its JSON documents with " : " separators; clients do not care, humans do. */
function imdsJson(value: Record<string, unknown>): string {
  return JSON.stringify(value, null, 2).replace(/": /g, '" : ');
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Builds the tree for the current options; nowMs stamps LastUpdated and default expirations. */
function buildTree(o: MockImdsOptions, nowMs: number): MetadataTree {
  const availabilityZone = o.availabilityZone ?? `${o.region}a`;
  const lastUpdated = isoSeconds(nowMs);
  const metaData: MetadataTree = {
    'ami-id': o.amiId,
    'ami-launch-index': '0',
    hostname: o.hostname,
    'instance-id': o.instanceId,
    'instance-type': o.instanceType,
    'local-hostname': o.hostname,
    'local-ipv4': o.privateIp,
    mac: o.mac,
    placement: { 'availability-zone': availabilityZone, region: o.region },
  };
  if (o.role !== null) {
    metaData['iam'] = {
      info: imdsJson({
        Code: 'Success',
        LastUpdated: lastUpdated,
        InstanceProfileArn: `arn:aws:iam::${o.accountId}:instance-profile/${o.role}`,
        InstanceProfileId: 'AIPAMOCKIMDSEXAMPLE00',
      }),
      'security-credentials': {
        [o.role]: imdsJson({
          Code: 'Success',
          LastUpdated: lastUpdated,
          Type: 'AWS-HMAC',
          AccessKeyId: o.credentials.accessKeyId,
          SecretAccessKey: o.credentials.secretAccessKey,
          Token: o.credentials.token,
          Expiration: o.credentials.expiration ?? isoSeconds(nowMs + 6 * 3600 * 1000),
        }),
      },
    };
  }
  if (o.instanceMetadataTags === 'enabled') metaData['tags'] = { instance: { ...o.tags } };
  const document = imdsJson({
    accountId: o.accountId,
    architecture: 'x86_64',
    availabilityZone,
    billingProducts: null,
    devpayProductCodes: null,
    marketplaceProductCodes: null,
    imageId: o.amiId,
    instanceId: o.instanceId,
    instanceType: o.instanceType,
    kernelId: null,
    pendingTime: '2024-01-01T00:00:00Z',
    privateIp: o.privateIp,
    ramdiskId: null,
    region: o.region,
    version: '2017-09-30',
  });
  return {
    latest: {
      'meta-data': metaData,
      dynamic: { 'instance-identity': { document } },
    },
  };
}

/** Lists a directory the way IMDS does: one name a line, subdirectories with a trailing '/'. */
function listing(tree: MetadataTree): string {
  return Object.entries(tree)
    .map(([name, child]) => (typeof child === 'string' ? name : `${name}/`))
    .join('\n');
}

/**
 * Answers a GET of `path` (query already stripped). Directories answer with or without
 * a trailing slash; a leaf with a trailing slash, or anything unknown, is 404.
 */
export function resolveMetadataPath(path: string, options: MockImdsOptions, nowMs: number): RouteAnswer {
  const segments = path.split('/').slice(1);
  const trailingSlash = segments.length > 1 && segments[segments.length - 1] === '';
  if (trailingSlash || segments[0] === '') segments.pop();
  let node: string | MetadataTree = buildTree(options, nowMs);
  for (const segment of segments) {
    if (typeof node === 'string' || segment === '') return NOT_FOUND;
    const child: string | MetadataTree | undefined = node[segment];
    if (child === undefined) return NOT_FOUND;
    node = child;
  }
  if (typeof node === 'string') return trailingSlash ? NOT_FOUND : { status: 200, body: node };
  return { status: 200, body: listing(node) };
}
