import { describe, expect, it } from 'vitest';
import { progressReporter } from '../../../src/fleet/render/progress.js';

function stream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = { isTTY, text: '', write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

const step = (done: number, region: string, instances: number) => ({ done, total: 2, scope: { account: '111122223333', region }, instances });

describe('progressReporter', () => {
  it('on a terminal: one bar redrawn in place, the instances counted so far, a newline at the end', () => {
    const tty = stream(true);
    const p = progressReporter(tty);
    p.update(step(1, 'eu-west-1', 170));
    p.update(step(2, 'us-east-1', 30));
    p.done();
    expect(tty.text).toBe(`\r[${'#'.repeat(15)}${'.'.repeat(15)}] 1/2 account/regions, 170 instances\r[${'#'.repeat(30)}] 2/2 account/regions, 200 instances\n`);
  });
  it('elsewhere (a pipe, a log): one line per scope, no carriage return', () => {
    const pipe = stream(false);
    const p = progressReporter(pipe);
    p.update(step(1, 'eu-west-1', 170));
    p.update(step(2, 'us-east-1', 30));
    p.done();
    expect(pipe.text).toBe('fleet: 1/2 111122223333 eu-west-1: 170 instances\nfleet: 2/2 111122223333 us-east-1: 30 instances\n');
  });
});
