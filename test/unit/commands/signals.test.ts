import { describe, expect, it } from 'vitest';
import { secondSignal, stopOnSignals } from '../../../src/commands/signals.js';
import { ExitCode } from '../../../src/errors.js';

describe('stopOnSignals', () => {
  // secondSignal() is one per process (main races it once): one case only.
  it('the first SIGINT or SIGTERM stops, a second ends the run through main (130), never exiting itself', async () => {
    const signals = stopOnSignals();
    let stopped = false;
    void signals.stop.then(() => (stopped = true));
    let interrupted: number | null = null;
    void secondSignal().then((code) => (interrupted = code));
    try {
      process.emit('SIGTERM');
      await new Promise((resolve) => setImmediate(resolve));
      expect(stopped).toBe(true);
      expect(interrupted).toBeNull();
      process.emit('SIGINT');
      expect(await secondSignal()).toBe(ExitCode.INTERRUPTED);
    } finally {
      signals.dispose();
    }
  });

  it('a command that handles the second signal itself (demo) is given it instead', async () => {
    let seconds = 0;
    const signals = stopOnSignals(() => (seconds += 1));
    try {
      process.emit('SIGINT');
      process.emit('SIGINT');
      await signals.stop;
      expect(seconds).toBe(1);
    } finally {
      signals.dispose();
    }
  });
});
