// The single executable's entry: hands the bundled pcap package to capture/pcap-module.ts (loaded
// only when a command captures or asks for the libpcap version), then runs the CLI.
'use strict';
globalThis.IMDS_SNIFF_BUNDLED_PCAP = () => require('pcap');
require('../../dist/src/main.js');
