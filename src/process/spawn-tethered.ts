import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const TETHER = fileURLToPath(new URL('./tether.js', import.meta.url));

export interface TetheredOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the child's stdout and stderr go; stdin is always the tether's lifeline. */
  output?: 'inherit' | 'pipe' | 'ignore';
  /** Run the command (not the tether) as this user; needs root. */
  user?: { uid: number; gid: number } | undefined;
}

/**
 * Starts `command` so that it ends when this process ends, however this process ends (see tether.ts).
 * Killing the returned ChildProcess (SIGTERM) stops the command too.
 */
export function spawnTethered(command: string, args: readonly string[], options: TetheredOptions = {}): ChildProcess {
  const output = options.output ?? 'pipe';
  const stdio: StdioOptions = ['pipe', output, output];
  const as = options.user ? [`--as=${options.user.uid}:${options.user.gid}`] : [];
  const child = spawn(process.execPath, [TETHER, ...as, command, ...args], { env: options.env ?? process.env, stdio });
  // The lifeline must never keep the event loop alive on its own.
  const stdin = child.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null;
  stdin?.on('error', () => undefined);
  (child.stdin as unknown as { _handle?: { unref?: () => void } })?._handle?.unref?.();
  return child;
}
