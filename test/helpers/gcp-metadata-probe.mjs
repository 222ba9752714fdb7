// A real GCE detection, as Google's Node libraries run it: gcp-metadata's isAvailable()
// (GET http://169.254.169.254/computeMetadata/v1/instance with Metadata-Flavor: Google).
//   node gcp-metadata-probe.mjs     prints {"available":true|false}
// GCE_METADATA_IP (the library's own setting) keeps it to 169.254.169.254: without it the
// library also races metadata.google.internal, which a namespace without DNS makes slow.
// METADATA_SERVER_DETECTION=ping-only skips its BIOS check (this is not a GCE machine anyway).
import { isAvailable } from 'gcp-metadata';

process.env.GCE_METADATA_IP ??= '169.254.169.254';
process.env.METADATA_SERVER_DETECTION ??= 'ping-only';
const available = await isAvailable();
process.stdout.write(`${JSON.stringify({ available })}\n`);
