// The pcap package's native binding, as a single executable loads it: from the file beside the
// executable (the package's own library directory, root-owned, never a world-writable path), and
// only when its SHA-256 is the one the bundler wrote into the executable. A binding that was
// replaced, or a directory others can write to, is refused before dlopen runs any of its code.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

/* global IMDS_SNIFF_PCAP_BINDING_SHA256 */
const expected = IMDS_SNIFF_PCAP_BINDING_SHA256;
const dir = path.dirname(process.execPath);
const file = path.join(dir, 'pcap_binding.node');

function refuse(why) {
  throw new Error(`the pcap binding ${file} ${why}`);
}

for (const checked of [dir, file]) {
  const st = fs.statSync(checked);
  // Owned by root or by whoever runs the agent, and writable by nobody else.
  if (st.uid !== 0 && st.uid !== process.getuid()) refuse(`is not safe to load: ${checked} is owned by uid ${st.uid}`);
  if ((st.mode & 0o022) !== 0) refuse(`is not safe to load: ${checked} is writable by group or others`);
}
const bytes = fs.readFileSync(file);
const actual = crypto.createHash('sha256').update(bytes).digest('hex');
if (actual !== expected) refuse(`does not match this build (sha256 ${actual.slice(0, 16)}…, built with ${expected.slice(0, 16)}…)`);
const holder = { exports: {} };
process.dlopen(holder, file);
module.exports = holder.exports;
