/**
 * A tiny supervisor run as `node tether.js [--as=UID:GID] <command> [args...]` by spawnTethered().
 * Linux gives no portable "die with your parent" for arbitrary programs (prctl PDEATHSIG is not reachable
 * from Node), so this process holds a pipe from the server on its stdin: when the server dies, even by
 * SIGKILL, the pipe closes and the tether kills its child. It exits with the child's status.
 * With --as, only the child runs as that user: the tether stays the server's, so that the server can always
 * signal it and it can always read its own file, wherever the server is installed.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const AS_FLAG = /^--as=(\d+):(\d+)$/;

const argv = process.argv.slice(2);
const as = AS_FLAG.exec(argv[0] ?? '');
const [command, ...args] = as ? argv.slice(1) : argv;
if (!command) {
  process.stderr.write('usage: tether [--as=UID:GID] <command> [args...]\n');
  process.exit(2);
}
// Its own process group, so that stopping reaches what it started too (`sh -c 'app'` would orphan `app`).
// libuv drops the supplementary groups when it switches uid, so the child has only the account's group.
const child = spawn(command, args, {
  stdio: ['ignore', 'inherit', 'inherit'],
  detached: true,
  ...(as ? { uid: Number(as[1]), gid: Number(as[2]) } : {}),
});
let stopping = false;

function signalGroup(signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  signalGroup('SIGTERM');
  setTimeout(() => signalGroup('SIGKILL'), 2000).unref();
}

child.on('error', (err) => {
  process.stderr.write(`tether: cannot start ${command}: ${err.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  // Whatever the command left running in its group goes with it.
  signalGroup('SIGKILL');
  process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1));
});
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, stop);
