// attribute/: tells whether an attributed process runs imds-sniff itself (used with the own User-Agent).

import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ProcessInfo } from './types.js';

/** Real path of a file, or null when it cannot be resolved (gone, or absent from this mount namespace). */
export type PathResolver = (file: string) => string | null;

/**
 * What "the imds-sniff program" is on this host, taken from the running agent: the real
 * path of its entry script under node, or of the binary when it is a single executable.
 */
export type OwnProgramIdentity = { script: string } | { executable: string };

/**
 * node options whose value is the next argument (`-r hook.js`, `--import x`). Any other
 * option taking one would make its value look like the script: the match then fails,
 * which only ever counts a request (the safe side).
 */
const OPTIONS_WITH_VALUE = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--env-file', '--input-type', '--title']);
/** node options after which there is no script file: the code comes from the command line or stdin. */
const NO_SCRIPT = new Set(['-e', '--eval', '-p', '--print', '-pe', '-ep', '-i', '--interactive', '--test', '--run', '-']);

/**
 * The script node runs, as written on its command line: the first argument after node's
 * own options. With a shebang (`/usr/local/bin/imds-sniff status`) the kernel runs
 * `node /usr/local/bin/imds-sniff status`, so the symlink's path is the script.
 */
export function scriptArgument(cmdline: readonly string[]): string | null {
  for (let i = 1; i < cmdline.length; i++) {
    const arg = cmdline[i] as string;
    if (arg === '--') return cmdline[i + 1] ?? null;
    if (NO_SCRIPT.has(arg)) return null;
    if (!arg.startsWith('-')) return arg;
    if (OPTIONS_WITH_VALUE.has(arg)) i++;
  }
  return null;
}

/**
 * Matches processes against the running imds-sniff. Any process can send
 * `User-Agent: imds-sniff-own/1` (a copied script, `curl -A`), so the header alone must
 * not hide a request from the gate: it counts as imds-sniff's only from a process that
 * runs the same entry script under node or, for a single executable, the same binary.
 * Paths are compared as real paths, so the /usr/local/bin/imds-sniff symlink and
 * `node /opt/…/dist/src/main.js` are one program.
 */
export class OwnProgram {
  constructor(
    readonly identity: OwnProgramIdentity,
    private readonly resolve: PathResolver = realPathOrNull,
  ) {}

  /** The running process's identity, or null when it cannot be resolved (then nothing matches). */
  static current(resolve: PathResolver = realPathOrNull): OwnProgram | null {
    const file = isSingleExecutable() ? process.execPath : process.argv[1];
    const real = file === undefined ? null : resolve(file);
    if (real === null) return null;
    return new OwnProgram(isSingleExecutable() ? { executable: real } : { script: real }, resolve);
  }

  /** True when `info` runs this program. Unknown attribution (no exe, no command line) never does. */
  runs(info: ProcessInfo): boolean {
    // A relative exe is an exec file name from the trace (no /proc link): it cannot be resolved here.
    if (info.exe === null || !path.isAbsolute(info.exe)) return false;
    if ('executable' in this.identity) {
      // The kernel's exe link is already a real path; a binary replaced on disk since (an
      // upgrade) no longer resolves but still names the same path.
      return (this.resolve(info.exe) ?? info.exe) === this.identity.executable;
    }
    // Under node the entry script is the program, whichever node runs it (the CLI from
    // another node install than the daemon's is still imds-sniff). A relative script
    // (`node dist/src/main.js` from the checkout) is not resolved: counted, the safe side.
    if (!/^node/.test(path.basename(info.exe))) return false;
    const script = info.cmdline === null ? null : scriptArgument(info.cmdline);
    return script !== null && path.isAbsolute(script) && this.resolve(script) === this.identity.script;
  }
}

/** realpathSync, or null when the path does not resolve. */
export function realPathOrNull(file: string): string | null {
  try {
    return realpathSync(file);
  } catch {
    return null;
  }
}

/** node:sea exists from Node 20.12; before it there were no single executables to be. */
function isSingleExecutable(): boolean {
  try {
    const sea = createRequire(import.meta.url)('node:sea') as typeof import('node:sea');
    return sea.isSea();
  } catch {
    return false;
  }
}
