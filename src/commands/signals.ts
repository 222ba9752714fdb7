// commands/: turns SIGINT/SIGTERM into a "stop" promise; a second signal exits at once.

/** Resolves on the first SIGINT or SIGTERM. The returned dispose() removes the handlers. */
export function stopOnSignals(onSecond: () => void = () => process.exit(130)): { stop: Promise<void>; dispose(): void } {
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
