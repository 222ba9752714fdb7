// fleet/render/: progress on stderr while scopes are read: a bar on a terminal, one line per scope otherwise.

import type { CollectProgress } from '../aws/collect.js';

/** A progress callback writing to `stream` (a bar when it is a TTY). */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): { update: (p: CollectProgress) => void; done: () => void } {
  const tty = stream.isTTY === true;
  let instances = 0;
  let drawn = false;
  return {
    update(p) {
      instances += p.instances;
      if (tty) {
        const width = 30;
        const filled = Math.round((p.done / p.total) * width);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} account/regions, ${instances} instances`);
        drawn = true;
      } else {
        stream.write(`fleet: ${p.done}/${p.total} ${p.scope.account} ${p.scope.region}: ${p.instances} instances\n`);
      }
    },
    done() {
      if (drawn) stream.write('\n');
    },
  };
}
