// Unit tests: the Process dimension value and dimension value sanitizing.
import { describe, expect, it } from 'vitest';
import { processName, sanitizeDimensionValue } from '../../../../src/contract/process-name.js';

const C = 'f3a1c2d4e5b6a7980123456789abcdef0123456789abcdef0123456789abcdef';

describe('processName', () => {
  it.each([
    ['exe basename', { exe: '/usr/bin/curl', comm: 'curl', container_id: null }, 'curl'],
    ['exe wins over comm', { exe: '/usr/lib/jvm/bin/java', comm: 'C2 CompilerThre', container_id: null }, 'java'],
    ['deleted binary keeps its name', { exe: '/opt/app/server (deleted)', comm: 'server', container_id: null }, 'server'],
    ['comm when exe is unknown', { exe: null, comm: 'python3', container_id: null }, 'python3'],
    ['comm when exe is a directory-like path', { exe: '/', comm: 'init', container_id: null }, 'init'],
    ['unknown when neither', { exe: null, comm: null, container_id: null }, 'unknown'],
    ['container id, first 12', { exe: '/usr/local/bin/node', comm: 'node', container_id: C }, 'node@f3a1c2d4e5b6'],
    ['container without exe', { exe: null, comm: null, container_id: C }, 'unknown@f3a1c2d4e5b6'],
    ['non-ASCII and control characters replaced', { exe: '/opt/bin/ünïcode\tapp', comm: null, container_id: null }, '_n_code_app'],
    ['blank comm falls through', { exe: null, comm: '   ', container_id: null }, 'unknown'],
  ])('%s', (_label, event, name) => {
    expect(processName(event)).toBe(name);
  });

  it('stays within 255 characters with the container suffix', () => {
    const name = processName({ exe: `/x/${'a'.repeat(400)}`, comm: null, container_id: C });
    expect(name.length).toBe(255);
    expect(name.endsWith('@f3a1c2d4e5b6')).toBe(true);
  });
});

describe('sanitizeDimensionValue', () => {
  it.each([
    ['i-0123456789abcdef0', 'i-0123456789abcdef0'],
    ['  spaced   out  ', 'spaced out'],
    ['\u0000\u0001', '__'],
    ['', 'unknown'],
    ['my asg – prod', 'my asg _ prod'],
  ])('%j → %j', (input, output) => {
    expect(sanitizeDimensionValue(input)).toBe(output);
  });
});
