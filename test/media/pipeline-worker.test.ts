/** The encoder worker process on its own: how it ends when told to stop, and when its parent lets go. */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { describePipeline } from '../../src/media/pipeline-description.js';

const WORKER = fileURLToPath(new URL('../../src/media/pipeline-worker.js', import.meta.url));

/** A worker encoding the test tone, once its first RTP packet has arrived (its bus-polling thread is busy by then). */
async function playingWorker(): Promise<ChildProcess> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const config = describePipeline({ kind: 'audio', source: { kind: 'test' } }, { port: socket.address().port, ssrc: 1 });
  const worker = fork(WORKER, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await once(socket, 'message');
  } finally {
    socket.close();
  }
  return worker;
}

async function exitWithin(worker: ChildProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const timer = setTimeout(() => worker.kill('SIGKILL'), ms);
  const [code, signal] = (await once(worker, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal };
}

test('a stop command ends the worker cleanly: exit code 0, so its parent knows it stopped and did not crash', { timeout: 20_000 }, async () => {
  const worker = await playingWorker();
  worker.send({ type: 'stop' });
  assert.deepEqual(await exitWithin(worker, 5000), { code: 0, signal: null });
});

test('a worker whose parent is gone (IPC disconnect) stops its pipeline and SIGKILLs itself: no thread join can hang it', { timeout: 20_000 }, async () => {
  const worker = await playingWorker();
  const started = performance.now();
  worker.disconnect();
  // The test's own SIGKILL would come at 5 s: a quicker one is the worker's.
  assert.deepEqual(await exitWithin(worker, 5000), { code: null, signal: 'SIGKILL' });
  assert.ok(performance.now() - started < 2000, 'it ended promptly');
});
