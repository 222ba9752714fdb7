// The SSM documents (packaging/ssm/): well-formed by SSM's schema 2.2 rules, accepted by moto's SSM
// CreateDocument with the parameters it parses back; every shell step passes `sh -n` and takes its
// parameters only through ENV_VAR interpolation; the Distributor package (packaging/build-ssm.sh)
// has a zip for every platform and architecture with the right package and a matching SHA-256.
// moto accepts any content (measured: a document with no mainSteps is "Active"), so the rules
// SSM itself enforces are checked here.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateDocumentCommand, DescribeDocumentCommand, GetDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MotoServer, motoSkipReason } from '../../helpers/moto.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SSM_DIR = join(ROOT, 'packaging/ssm');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const ACTIONS = ['install', 'upgrade', 'uninstall', 'status', 'enforce'];

interface Parameter {
  type: string;
  interpolationType?: string;
  description?: string;
  default?: string;
  allowedValues?: string[];
  allowedPattern?: string;
}
interface Step {
  action: string;
  name: string;
  precondition?: { StringEquals: [string, string] };
  inputs: Record<string, unknown>;
}
interface CommandDocument {
  schemaVersion: string;
  description: string;
  parameters: Record<string, Parameter>;
  mainSteps: Step[];
}

const DOCUMENTS = ['imds-sniff-s3.json', 'imds-sniff-distributor.json'];
const load = (file: string): CommandDocument => JSON.parse(readFileSync(join(SSM_DIR, file), 'utf8')) as CommandDocument;

describe.each(DOCUMENTS)('the Command document %s', (file) => {
  const doc = load(file);

  it('is schema 2.2 with typed, defaulted parameters whose defaults pass their own patterns', () => {
    expect(doc.schemaVersion).toBe('2.2');
    expect(doc.description.length).toBeGreaterThan(10);
    expect(Object.keys(doc).sort()).toEqual(['description', 'mainSteps', 'parameters', 'schemaVersion']);
    expect(doc.parameters['action']?.allowedValues).toEqual(ACTIONS);
    for (const [name, p] of Object.entries(doc.parameters)) {
      expect(name).toMatch(/^[a-zA-Z0-9_]+$/);
      expect(p.type, name).toBe('String');
      expect(typeof p.default, name).toBe('string');
      if (p.allowedValues) expect(p.allowedValues, name).toContain(p.default);
      else expect(p.allowedPattern, `${name} has neither allowedValues nor allowedPattern`).toBeDefined();
      if (p.allowedPattern) expect(new RegExp(p.allowedPattern).test(p.default ?? ''), `${name} default`).toBe(true);
    }
  });

  it('runs exactly one step per action, chosen by a precondition on {{ action }}', () => {
    const names = doc.mainSteps.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const step of doc.mainSteps) {
      expect(step.name).toMatch(/^[a-zA-Z0-9_.-]+$/);
      expect(['aws:runShellScript', 'aws:configurePackage']).toContain(step.action);
      expect(step.precondition?.StringEquals[0]).toBe('{{ action }}');
    }
    expect(doc.mainSteps.map((s) => s.precondition?.StringEquals[1]).sort()).toEqual([...ACTIONS].sort());
  });

  it('shell steps parse (sh -n), read parameters only from SSM_* variables, and name only declared ones', () => {
    // ENV_VAR is a parameter's property: the agent then sets SSM_<name> (and not for other parameters).
    for (const [name, p] of Object.entries(doc.parameters)) expect(p.interpolationType, name).toBe('ENV_VAR');
    for (const step of doc.mainSteps.filter((s) => s.action === 'aws:runShellScript')) {
      const lines = step.inputs['runCommand'] as string[];
      expect(step.inputs, step.name).not.toHaveProperty('interpolationType');
      // An agent too old to set the variables stops the step instead of running it with empty parameters.
      expect(lines[1], step.name).toMatch(/^\[ -n "\$\{SSM_action\+x\}" \] \|\| \{ .*exit 1; \}$/);
      const script = lines.join('\n');
      expect(script, `${step.name}: a {{ }} would paste a parameter into the script`).not.toMatch(/\{\{/);
      const check = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
      expect(check.status, `${step.name}: ${check.stderr}`).toBe(0);
      for (const [, name] of script.matchAll(/\$\{?SSM_([A-Za-z0-9_]+)/g)) expect(Object.keys(doc.parameters), step.name).toContain(name);
    }
    for (const step of doc.mainSteps.filter((s) => s.action === 'aws:configurePackage')) {
      expect(['Install', 'Uninstall']).toContain(step.inputs['action']);
      expect(step.inputs['name']).toBe('{{ packageName }}');
      for (const [, name] of JSON.stringify(step.inputs).matchAll(/\{\{ ([A-Za-z0-9_]+) \}\}/g)) expect(Object.keys(doc.parameters)).toContain(name);
    }
  });

  it('refuses, through its patterns, an enforceArgs or packageUrl that would run a second command', () => {
    const enforce = new RegExp(doc.parameters['enforceArgs']?.allowedPattern ?? '');
    expect(enforce.test('--min-observation 7d --dry-run')).toBe(true);
    for (const hostile of ['--dry-run; reboot', '$(reboot)', '`id`', '--x | sh', '--a\nreboot']) expect(enforce.test(hostile), hostile).toBe(false);
    const url = doc.parameters['packageUrl']?.allowedPattern;
    if (url) {
      expect(new RegExp(url).test('s3://bucket/imds-sniff/0.1.0')).toBe(true);
      for (const hostile of ['s3://b/$(id)', 'https://x/ a', 'file:///etc/passwd', 'http://plain/text']) expect(new RegExp(url).test(hostile), hostile).toBe(false);
    }
  });
});

describe.each([['distributor/install.sh'], ['distributor/uninstall.sh']])('%s', (script) => {
  it('is POSIX sh that parses', () => {
    const check = spawnSync('sh', ['-n', join(SSM_DIR, script)], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
  });
});

describe('the State Manager association example', () => {
  it('keeps the Distributor package installed with AWS-ConfigurePackage, in bounded waves', () => {
    const a = JSON.parse(readFileSync(join(SSM_DIR, 'association.json'), 'utf8')) as Record<string, unknown>;
    expect(a['Name']).toBe('AWS-ConfigurePackage');
    expect(a['Parameters']).toEqual({ action: ['Install'], installationType: ['In-place update'], name: ['imds-sniff'] });
    expect(a['ScheduleExpression']).toMatch(/^rate\(\d+ (minutes|hours|days?)\)$/);
    expect(a['MaxConcurrency']).toMatch(/^\d+%?$/);
    expect(a['MaxErrors']).toMatch(/^\d+%?$/);
  });
});

const motoSkip = motoSkipReason();
describe.skipIf(motoSkip !== null)(`moto's SSM CreateDocument${motoSkip ? ` (skipped: ${motoSkip})` : ''}`, () => {
  let moto: MotoServer;
  let ssm: SSMClient;
  beforeAll(async () => {
    moto = await MotoServer.start();
    ssm = new SSMClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  });
  afterAll(async () => {
    ssm?.destroy();
    await moto?.stop();
  });

  it.each(DOCUMENTS)('accepts %s as a Command document and parses its parameters back', async (file) => {
    const content = readFileSync(join(SSM_DIR, file), 'utf8');
    const name = file.replace(/\.json$/, '');
    const created = await ssm.send(new CreateDocumentCommand({ Name: name, Content: content, DocumentType: 'Command', DocumentFormat: 'JSON' }));
    expect(created.DocumentDescription?.Status).toBe('Active');
    expect(created.DocumentDescription?.SchemaVersion).toBe('2.2');
    const described = await ssm.send(new DescribeDocumentCommand({ Name: name }));
    expect(described.Document?.Parameters?.map((p) => p.Name).sort()).toEqual(Object.keys(load(file).parameters).sort());
    const action = described.Document?.Parameters?.find((p) => p.Name === 'action');
    expect(action?.DefaultValue).toBe('status');
    const got = await ssm.send(new GetDocumentCommand({ Name: name }));
    expect(JSON.parse(got.Content ?? '')).toEqual(load(file));
  });
});

const DIST = join(ROOT, 'build/dist/ssm');
/** SSM platform name, version, zip name and package format: AL2, AL2023, RHEL, Ubuntu, Debian. */
const PLATFORMS: Array<[string, string, string, 'deb' | 'rpm']> = [
  ['amazon', '2', 'amazon-2', 'rpm'],
  ['amazon', '2023', 'amazon-2023', 'rpm'],
  ['redhat', '_any', 'redhat', 'rpm'],
  ['ubuntu', '_any', 'ubuntu', 'deb'],
  ['debian', '_any', 'debian', 'deb'],
];
const distSkip = process.env['IMDS_SNIFF_REQUIRE_E2E'] === '1' ? null : existsSync(join(DIST, 'manifest.json')) ? null : 'not built (bash packaging/build-ssm.sh)';
describe.skipIf(distSkip !== null)(`the Distributor package${distSkip ? ` (skipped: ${distSkip})` : ''}`, () => {
  it('names a zip for AL2, AL2023, RHEL, Ubuntu and Debian on x86_64 and arm64, each with its SHA-256', () => {
    const manifest = JSON.parse(readFileSync(join(DIST, 'manifest.json'), 'utf8')) as {
      schemaVersion: string;
      version: string;
      packages: Record<string, Record<string, Record<string, { file: string }>>>;
      files: Record<string, { checksums: { sha256: string } }>;
    };
    expect(manifest.schemaVersion).toBe('2.0');
    expect(manifest.version).toBe(VERSION);
    for (const [platform, version, zip] of PLATFORMS) {
      for (const arch of ['x86_64', 'arm64']) {
        const file = manifest.packages[platform]?.[version]?.[arch]?.file;
        expect(file, `${platform} ${version} ${arch}`).toBe(`imds-sniff-${zip}-${arch}.zip`);
      }
    }
    expect(Object.keys(manifest.files)).toHaveLength(10);
    for (const [file, { checksums }] of Object.entries(manifest.files)) {
      expect(createHash('sha256').update(readFileSync(join(DIST, file))).digest('hex'), file).toBe(checksums.sha256);
    }
  });

  const PACKAGE: Record<string, string> = {
    'deb-x86_64': `imds-sniff_${VERSION}_amd64.deb`,
    'deb-arm64': `imds-sniff_${VERSION}_arm64.deb`,
    'rpm-x86_64': `imds-sniff-${VERSION}-1.x86_64.rpm`,
    'rpm-arm64': `imds-sniff-${VERSION}-1.aarch64.rpm`,
  };
  it.each(PLATFORMS.flatMap(([, , zip, format]) => ['x86_64', 'arm64'].map((arch) => [zip, arch, PACKAGE[`${format}-${arch}`] as string])))('imds-sniff-%s-%s.zip holds install.sh, uninstall.sh and %s, byte for byte', (name, arch, pkg) => {
    const zip = join(DIST, `imds-sniff-${name}-${arch}.zip`);
    const list = spawnSync('unzip', ['-Z1', zip], { encoding: 'utf8' });
    expect(list.stdout.trim().split('\n').sort()).toEqual(['install.sh', pkg, 'uninstall.sh'].sort());
    const inner = spawnSync('unzip', ['-p', zip, pkg], { maxBuffer: 512 << 20 });
    expect(createHash('sha256').update(inner.stdout).digest('hex')).toBe(createHash('sha256').update(readFileSync(join(ROOT, 'build/dist', pkg))).digest('hex'));
    expect(spawnSync('unzip', ['-p', zip, 'install.sh'], { encoding: 'utf8' }).stdout).toBe(readFileSync(join(SSM_DIR, 'distributor/install.sh'), 'utf8'));
  });
});
