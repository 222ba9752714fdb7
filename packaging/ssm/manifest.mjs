// Writes the Distributor manifest (schemaVersion 2.0) for the zips in DIR: every platform and version
// imds-sniff supports, both architectures, each with its zip and the zip's SHA-256.
// Usage: node packaging/ssm/manifest.mjs --version X.Y.Z --dir DIR > DIR/manifest.json
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { version: { type: 'string' }, dir: { type: 'string' } } });
if (!values.version || !values.dir) {
  console.error('usage: manifest.mjs --version X.Y.Z --dir DIR');
  process.exit(2);
}

// Platform names and versions as the SSM agent reports them ("_any": every version), each with the
// name of its zips (packaging/build-ssm.sh makes one per platform and architecture).
const platforms = [
  { platform: 'amazon', version: '2', zip: 'amazon-2' },
  { platform: 'amazon', version: '2023', zip: 'amazon-2023' },
  { platform: 'redhat', version: '_any', zip: 'redhat' },
  { platform: 'ubuntu', version: '_any', zip: 'ubuntu' },
  { platform: 'debian', version: '_any', zip: 'debian' },
];
const arches = ['x86_64', 'arm64'];

const packages = {};
const files = {};
for (const { platform, version, zip } of platforms) {
  packages[platform] ??= {};
  packages[platform][version] = {};
  for (const arch of arches) {
    const file = `imds-sniff-${zip}-${arch}.zip`;
    packages[platform][version][arch] = { file };
    files[file] = { checksums: { sha256: createHash('sha256').update(readFileSync(join(values.dir, file))).digest('hex') } };
  }
}
const manifest = { schemaVersion: '2.0', version: values.version, publisher: 'imds-sniff', packages, files };
process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
