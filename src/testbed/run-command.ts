// Runs one external command from an argument array (never a shell string) and collects its output.

import { spawn } from 'node:child_process';

/** How a finished command ended and what it printed. */
export interface CommandResult {
  /** Exit code; null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options for runCommand. */
export interface RunCommandOptions {
  /** Written to stdin, which is then closed; without it stdin is empty. */
  input?: string;
  /** SIGKILL the command after this long; its result then has signal 'SIGKILL'. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs argv[0] with the rest as arguments and resolves when it exits, whatever the
 * exit code. Rejects only when it cannot start (ENOENT and the like).
 */
export function runCommand(argv: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('runCommand: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() });
    });
    // A command that exits without reading stdin makes this write fail with EPIPE; that is fine.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** First non-empty line of a command's stderr (or stdout), for one-line error messages. */
export function firstLine(result: CommandResult): string {
  const text = `${result.stderr}\n${result.stdout}`;
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? `exit code ${String(result.code)}`;
}
