// commands/: `imds-sniff doctor` — checks libpcap, privileges, /proc, attribution method and IMDS mode; its flags and help.

import { readlinkSync } from 'node:fs';
import { Option } from 'commander';
import { selectSocketOwnerFinder } from '../attribute/select-finder.js';
import { probeImds } from '../aws/imds-probe.js';
import { loadPcap, type PcapModule } from '../capture/pcap-module.js';
import { ExitCode, ImdsSniffError, type ExitCodeValue } from '../errors.js';
import { canUseTracefs, effectiveCapabilities, hasCapability } from './privileges.js';
import type { Register } from './register.js';
import { jsonTerminalSafe, terminalSafe } from '../text/terminal-safe.js';

const DOCTOR_HELP = `
Each line is ok, warn or FAIL with what to do. Exit code 0 when capture can run, 4 when it cannot.`;

interface Check {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

async function runChecks(): Promise<Check[]> {
  const checks: Check[] = [];
  const caps = effectiveCapabilities();
  checks.push(
    hasCapability(13, caps)
      ? { check: 'capture privilege', status: 'ok', detail: process.getuid?.() === 0 ? 'root' : 'CAP_NET_RAW' }
      : { check: 'capture privilege', status: 'fail', detail: 'needs root or CAP_NET_RAW (sudo imds-sniff …)' },
  );
  let pcap: PcapModule | null = null;
  try {
    pcap = loadPcap();
    checks.push({ check: 'libpcap', status: 'ok', detail: pcap.lib_version });
  } catch (error) {
    const hint = error instanceof ImdsSniffError && error.hint !== undefined ? `: ${error.hint}` : '';
    checks.push({ check: 'libpcap', status: 'fail', detail: `${(error as Error).message}${hint}` });
  }
  if (pcap !== null) {
    // libpcap loaded; listing the interfaces opens each one (an emulator without SIOCETHTOOL fails here).
    try {
      const devices = pcap.findalldevs().map((d) => d.name);
      checks.push({ check: 'interfaces', status: devices.includes('any') ? 'ok' : 'warn', detail: devices.join(', ') || 'none visible' });
    } catch (error) {
      checks.push({ check: 'interfaces', status: 'fail', detail: `libpcap cannot list the interfaces: ${(error as Error).message}` });
    }
  }
  try {
    readlinkSync('/proc/1/exe');
    checks.push({ check: '/proc access', status: 'ok', detail: 'can read other processes (exe, fds)' });
  } catch {
    checks.push({ check: '/proc access', status: 'warn', detail: 'cannot read /proc/1/exe: exe and sockets of other users stay unknown (needs root or CAP_SYS_PTRACE + CAP_DAC_READ_SEARCH)' });
  }
  const selected = await selectSocketOwnerFinder({ preferred: 'auto' }).catch((error: Error) => ({ finder: null, method: 'none', reason: error.message }));
  await selected.finder?.close();
  checks.push({
    check: 'attribution',
    status: selected.method === 'tracefs' ? 'ok' : selected.method === 'procfs' ? 'warn' : 'fail',
    detail: `${selected.method}: ${selected.reason}${selected.method !== 'tracefs' && !canUseTracefs() ? ' (tracefs needs CAP_SYS_ADMIN)' : ''}`,
  });
  const imds = await probeImds(1000);
  checks.push({
    check: 'IMDS',
    status: imds.reachable ? 'ok' : 'warn',
    detail: imds.detail,
  });
  return checks;
}

export async function runDoctor(flags: { format: 'table' | 'json' }): Promise<ExitCodeValue> {
  const checks = await runChecks();
  if (flags.format === 'json') {
    for (const c of checks) process.stdout.write(`${jsonTerminalSafe(JSON.stringify({ event: 'doctor_check', ...c }))}\n`);
  } else {
    const width = Math.max(...checks.map((c) => c.check.length));
    for (const c of checks) {
      process.stdout.write(`${c.status === 'fail' ? 'FAIL' : c.status.padEnd(4)}  ${c.check.padEnd(width)}  ${terminalSafe(c.detail)}\n`);
    }
  }
  const cannot = checks.some((c) => c.status === 'fail' && ['capture privilege', 'libpcap', 'interfaces'].includes(c.check));
  return cannot ? ExitCode.CANNOT_CAPTURE : ExitCode.OK;
}

export const doctor: Register = (program, setResult) => {
  program
    .command('doctor')
    .description('check the prerequisites and say what is missing')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addHelpText('after', DOCTOR_HELP)
    .action((flags: { format: 'table' | 'json' }) => setResult(runDoctor(flags)));
};
