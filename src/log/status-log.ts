// sinks/: the agent's own status and warnings — pino JSON lines on stderr (journald under systemd).

import pino from 'pino';

export type StatusLog = pino.Logger;

/**
 * A pino logger on stderr (file descriptor 2, synchronous: nothing is lost at
 * exit, and no transport worker thread, which would not survive bundling).
 */
export function createStatusLog(level: 'debug' | 'info' | 'warn' = 'info'): StatusLog {
  return pino(
    { base: { service: 'imds-sniff' }, level, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    pino.destination({ dest: 2, sync: true }),
  );
}
