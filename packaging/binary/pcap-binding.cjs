// The pcap package's native binding, as the single executable loads it: from the file beside the
// executable (the package's own library directory, root-owned, never a world-writable path), and
// only when its SHA-256 is the one the bundler wrote into the executable. The file is opened once
// (no symlink followed), checked and hashed through that descriptor, and dlopen()ed through the
// same descriptor (/proc/self/fd/N), so what was checked is what runs. A binding that was replaced,
// or a folder (or a library in it) that others can write to, is refused before any of its code runs.
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

/** Owned by root or by whoever runs the agent, and writable by nobody else. */
function checkOwner(name, st) {
  if (st.uid !== 0 && st.uid !== process.getuid()) refuse(`is not safe to load: ${name} is owned by uid ${st.uid}`);
  if ((st.mode & 0o022) !== 0) refuse(`is not safe to load: ${name} is writable by group or others`);
}

const dirStat = fs.lstatSync(dir);
if (!dirStat.isDirectory()) refuse(`is not safe to load: ${dir} is not a directory`);
checkOwner(dir, dirStat);
// The loader, glibc and libpcap beside it are loaded from this folder too ($ORIGIN).
for (const entry of fs.readdirSync(dir)) {
  const st = fs.lstatSync(path.join(dir, entry));
  if (!st.isSymbolicLink()) checkOwner(path.join(dir, entry), st);
}

const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
try {
  const st = fs.fstatSync(fd);
  if (!st.isFile()) refuse('is not a regular file');
  checkOwner(file, st);
  const actual = crypto.createHash('sha256').update(fs.readFileSync(fd)).digest('hex');
  if (actual !== expected) refuse(`does not match this build (sha256 ${actual.slice(0, 16)}…, built with ${expected.slice(0, 16)}…)`);
  const holder = { exports: {} };
  process.dlopen(holder, `/proc/self/fd/${fd}`);
  module.exports = holder.exports;
} finally {
  fs.closeSync(fd);
}
