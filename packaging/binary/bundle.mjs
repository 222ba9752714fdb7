// Bundles the compiled CLI (dist/src/main.js) into one CommonJS file for Node's single-executable
// support: start-up then reads one script instead of walking a module tree. The pcap package's
// native binding is not bundled: packaging/sea/pcap-binding.cjs loads it from beside the executable
// after checking it against the SHA-256 given here.
//
// Usage: node packaging/sea/bundle.mjs --out FILE --binding-sha256 HEX --commit ID
import { build } from 'esbuild';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values } = parseArgs({ options: { out: { type: 'string' }, 'binding-sha256': { type: 'string' }, commit: { type: 'string' } } });
if (!values.out || !/^[0-9a-f]{64}$/.test(values['binding-sha256'] ?? '') || !values.commit) {
  console.error('usage: bundle.mjs --out FILE --binding-sha256 HEX --commit ID');
  process.exit(2);
}
const root = fileURLToPath(new URL('../../', import.meta.url));
const bindingLoader = fileURLToPath(new URL('./pcap-binding.cjs', import.meta.url));

const result = await build({
  entryPoints: [fileURLToPath(new URL("./entry.cjs", import.meta.url))],
  nodePaths: [`${root}node_modules`],
  outfile: values.out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  define: {
    IMDS_SNIFF_COMMIT: JSON.stringify(values.commit),
    IMDS_SNIFF_PCAP_BINDING_SHA256: JSON.stringify(values['binding-sha256']),
    // import.meta.url has no meaning in one CommonJS file; the code that reads it only does so
    // from a checkout (tests, the testbed) or for createRequire of builtins, which works from any path.
    'import.meta.url': '"file:///imds-sniff"',
  },
  plugins: [
    {
      name: 'pcap-binding',
      setup(b) {
        b.onResolve({ filter: /build\/Release\/pcap_binding$/ }, () => ({ path: bindingLoader }));
      },
    },
  ],
});
let bytes = 0;
for (const output of Object.values(result.metafile.outputs)) bytes += output.bytes;
console.error(`bundle: ${values.out} (${(bytes / 1024).toFixed(0)} KiB)`);
