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

// Platform names and versions as the SSM agent reports them; "_any" matches every version.
const platforms = {
  amazon: { format: 'rpm', versions: ['2', '2023'] },
  redhat: { format: 'rpm', versions: ['_any'] },
  ubuntu: { format: 'deb', versions: ['_any'] },
  debian: { format: 'deb', versions: ['_any'] },
};
const arches = ['x86_64', 'arm64'];

const packages = {};
const files = {};
for (const [platform, { format, versions }] of Object.entries(platforms)) {
  packages[platform] = {};
  for (const version of versions) {
    packages[platform][version] = {};
    for (const arch of arches) {
      const file = `imds-sniff-${format}-${arch}.zip`;
      packages[platform][version][arch] = { file };
      files[file] ??= { checksums: { sha256: createHash('sha256').update(readFileSync(join(values.dir, file))).digest('hex') } };
    }
  }
}
const manifest = { schemaVersion: '2.0', version: values.version, publisher: 'imds-sniff', packages, files };
process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
