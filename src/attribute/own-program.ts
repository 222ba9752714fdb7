// attribute/: tells whether an attributed process runs imds-sniff itself (used with the own User-Agent).

import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ProcessInfo } from './types.js';

/** Real path of a file, or null when it cannot be resolved (gone, or absent from this mount namespace). */
export type PathResolver = (file: string) => string | null;

/** What "the imds-sniff program" is on this host, taken from the running agent. */
export interface OwnProgramIdentity {
  /** Real path of the executable (process.execPath): node, or a single-executable imds-sniff. */
  exe: string;
  /** Real path of the entry script (process.argv[1]); null when the executable itself is imds-sniff. */
  script: string | null;
}

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
 * runs the same entry script (under node, whichever node binary runs it) or, for a
 * single executable, the same binary. Paths are compared as real paths, so the
 * /usr/local/bin/imds-sniff symlink and `node /opt/…/dist/src/main.js` are one program.
 */
export class OwnProgram {
  constructor(
    readonly identity: OwnProgramIdentity,
    private readonly resolve: PathResolver = realPathOrNull,
  ) {}

  /** The running process's identity, or null when its entry script cannot be resolved (then nothing matches). */
  static current(resolve: PathResolver = realPathOrNull): OwnProgram | null {
    const exe = resolve(process.execPath);
    if (exe === null) return null;
    if (isSingleExecutable()) return new OwnProgram({ exe, script: null }, resolve);
    const entry = process.argv[1];
    const script = entry === undefined ? null : resolve(entry);
    return script === null ? null : new OwnProgram({ exe, script }, resolve);
  }

  /** True when `info` runs this program. Unknown attribution (no exe, no command line) never does. */
  runs(info: ProcessInfo): boolean {
    if (this.identity.script === null) {
      // A single executable: the binary is the program.
      // A relative exe is an exec file name from the trace (no /proc link): it would resolve against our directory, not the process's.
      if (info.exe === null || !path.isAbsolute(info.exe)) return false;
      // The kernel's exe link is already a real path; a binary replaced on disk since (an
      // upgrade) no longer resolves but still names the same path.
      return (this.resolve(info.exe) ?? info.exe) === this.identity.exe;
    }
    // Under node the entry script is the program, whichever node runs it (the CLI from
    // another node install than the daemon's is still imds-sniff).
    if (info.exe === null || !/^node/.test(path.basename(info.exe))) return false;
    const script = info.cmdline === null ? null : scriptArgument(info.cmdline);
    if (script === null) return false;
    // Relative to the process's working directory (`node dist/src/main.js`, `./main.js`).
    const absolute = path.isAbsolute(script) ? script : info.cwd === null ? null : path.resolve(info.cwd, script);
    return absolute !== null && this.resolve(absolute) === this.identity.script;
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
