#!/usr/bin/env node
// Records the raw ring-buffer pages of a private tracefs instance while known clients call a local
// HTTP server on port 80, for the tracefs decoder and finder tests. Run as root after `npm run build`:
//   node scripts/record-tracefs.mjs [OUT_DIR]     (default fixtures/proc/tracefs/<uname -r>)
// OUT_DIR mirrors tracefs: events/header_page, events/header_event, events/<system>/<event>/format,
// per_cpu/cpuN/trace_pipe_raw (the pages as read), plus clients.json (who connected from which port).
// Uses only ip, python3 and curl, so it also runs inside the kernel VMs (scripts/test-kernels.sh).

import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync, constants } from 'node:fs';
import { release } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { TracefsInstance } from '../dist/src/attribute/tracefs/instance.js';
import { TRACE_EVENTS } from '../dist/src/attribute/tracefs/support.js';

const run = promisify(execFile);
const out = process.argv[2] ?? fileURLToPath(new URL(`../fixtures/proc/tracefs/${release()}/`, import.meta.url));
const ns = `imdss-rec-${process.pid}`;
const nsExec = (...argv) => ['ip', 'netns', 'exec', ns, ...argv];

async function sh(argv) {
  const { stdout } = await run(argv[0], argv.slice(1));
  return stdout.trim();
}

/** Runs a client in the namespace; it prints "<pid> <tid> <local port>", or just the port (its pid is the spawned one). */
async function client(label, family, argv) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  const numbers = text.trim().split(/\s+/).map(Number);
  const [pid, tid, port] = numbers.length === 1 ? [child.pid, child.pid, numbers[0]] : numbers;
  if (code !== 0 || !port) throw new Error(`${label}: exit ${code}, output '${text.trim()}'`);
  return { label, family, pid, tid, srcPort: port };
}

const PY_CLIENT = (host, threaded) => `
import http.client, os, threading, sys
def go():
    c = http.client.HTTPConnection(${JSON.stringify(host)}, 80, timeout=5)
    c.connect()
    port = c.sock.getsockname()[1]
    c.request('GET', '/latest/meta-data/')
    c.getresponse().read()
    print(os.getpid(), threading.get_native_id(), port)
if ${threaded ? 'True' : 'False'}:
    t = threading.Thread(target=go); t.start(); t.join()
else:
    go()
`;

await sh(['ip', 'netns', 'add', ns]);
let server;
let instance;
try {
  await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  await sh(['ip', '-n', ns, 'addr', 'add', '169.254.169.254/32', 'dev', 'lo']);
  await sh(['ip', '-n', ns, '-6', 'addr', 'add', 'fd00:ec2::254/128', 'dev', 'lo', 'nodad']);
  server = spawn('ip', nsExec('python3', '-c', [
    'import http.server, socket',
    'class S(http.server.ThreadingHTTPServer): address_family = socket.AF_INET6',
    'class H(http.server.BaseHTTPRequestHandler):',
    '    def do_GET(self): self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")',
    '    def log_message(self, *a): pass',
    'S(("::", 80), H).serve_forever()',
  ].join('\n')).slice(1), { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    const ok = await run('ip', nsExec('curl', '-s', '-o', '/dev/null', 'http://169.254.169.254/').slice(1)).then(() => true, () => false);
    if (ok) break;
    if (i > 100) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }

  instance = await TracefsInstance.create({ dstPort: 80 });
  const clients = [];
  // curl run directly (exec'd by ip netns exec: its pid is the spawned pid) for v4 and v6.
  const direct = (url) => nsExec('curl', '-s', '-g', '-o', '/dev/null', '-w', '%{local_port}', url);
  for (let i = 0; i < 3; i++) {
    const c = await client(`curl-v4-${i}`, 4, direct('http://169.254.169.254/latest/meta-data/'));
    clients.push({ ...c, comm: 'curl', srcIp: '169.254.169.254', dstIp: '169.254.169.254' });
  }
  for (let i = 0; i < 2; i++) {
    const c = await client(`curl-v6-${i}`, 6, direct('http://[fd00:ec2::254]/latest/meta-data/'));
    clients.push({ ...c, comm: 'curl', srcIp: 'fd00:ec2::254', dstIp: 'fd00:ec2::254' });
  }
  const py = await client('python-main-thread', 4, nsExec('python3', '-c', PY_CLIENT('169.254.169.254', false)));
  clients.push({ ...py, comm: 'python3', srcIp: '169.254.169.254', dstIp: '169.254.169.254' });
  const thread = await client('python-second-thread', 4, nsExec('python3', '-c', PY_CLIENT('169.254.169.254', true)));
  clients.push({ ...thread, comm: 'python3', srcIp: '169.254.169.254', dstIp: '169.254.169.254' });
  const py6 = await client('python-v6', 6, nsExec('python3', '-c', PY_CLIENT('fd00:ec2::254', false)));
  clients.push({ ...py6, comm: 'python3', srcIp: 'fd00:ec2::254', dstIp: 'fd00:ec2::254' });
  instance.mark();
  await new Promise((r) => setTimeout(r, 200));

  rmSync(out, { recursive: true, force: true });
  mkdirSync(path.join(out, 'events'), { recursive: true });
  const root = path.dirname(path.dirname(instance.dir));
  // tracefs files say size 0, so copyFile would copy nothing: read and write.
  const copy = (from, to) => writeFileSync(to, readFileSync(from));
  for (const f of ['header_page', 'header_event']) copy(path.join(root, 'events', f), path.join(out, 'events', f));
  for (const e of Object.values(TRACE_EVENTS)) {
    mkdirSync(path.join(out, 'events', e), { recursive: true });
    try {
      copy(path.join(root, 'events', e, 'format'), path.join(out, 'events', e, 'format'));
    } catch {
      // Not on this kernel.
    }
  }
  mkdirSync(path.join(out, 'instances'), { recursive: true });
  writeFileSync(path.join(out, 'instances', 'README'), 'Stands in for tracefs instances/ (the support check looks for it).\n');
  let pages = 0;
  for (const cpu of readdirSync(path.join(instance.dir, 'per_cpu'))) {
    const fd = openSync(path.join(instance.dir, 'per_cpu', cpu, 'trace_pipe_raw'), constants.O_RDONLY | constants.O_NONBLOCK);
    const chunks = [];
    const buf = Buffer.alloc(65536);
    for (;;) {
      let n = 0;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        if (err.code === 'EAGAIN') break;
        throw err;
      }
      if (n === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    closeSync(fd);
    const data = Buffer.concat(chunks);
    if (data.length === 0) continue;
    pages += data.length / 4096;
    mkdirSync(path.join(out, 'per_cpu', cpu), { recursive: true });
    writeFileSync(path.join(out, 'per_cpu', cpu, 'trace_pipe_raw'), data);
  }
  const meta = { kernel: release(), arch: process.arch, recorder_pid: process.pid, clients };
  writeFileSync(path.join(out, 'clients.json'), `${JSON.stringify(meta, null, 2)}\n`);
  console.log(`record-tracefs: ${clients.length} clients, ${pages} page(s) of 4 KiB into ${out}`);
} finally {
  await instance?.close();
  server?.kill('SIGKILL');
  await run('ip', ['netns', 'del', ns]).catch(() => {});
}
