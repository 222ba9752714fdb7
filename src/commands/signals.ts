// commands/: turns SIGINT/SIGTERM into a "stop" promise; a second signal ends the run at once, through main.ts (exit 130).

import { ExitCode, type ExitCodeValue } from '../errors.js';

let interruptAgain: () => void = () => {};
const interruptedAgain = new Promise<ExitCodeValue>((resolve) => {
  interruptAgain = () => resolve(ExitCode.INTERRUPTED);
});

/**
 * Resolves with exit code 130 at a second SIGINT or SIGTERM (of a command that
 * kept the default `onSecond`): main.ts races the command's result against it
 * and exits without waiting for the command's own clean-up.
 */
export function secondSignal(): Promise<ExitCodeValue> {
  return interruptedAgain;
}

/** Resolves on the first SIGINT or SIGTERM. The returned dispose() removes the handlers. */
export function stopOnSignals(onSecond: () => void = interruptAgain): { stop: Promise<void>; dispose(): void } {
  let resolveStop: () => void = () => {};
  const stop = new Promise<void>((resolve) => {
    resolveStop = resolve;
  });
  let count = 0;
  const handler = (): void => {
    count += 1;
    if (count === 1) resolveStop();
    else onSecond();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    stop,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
