import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { GstreamerMediaService } from '../../src/media/gstreamer-media-service.js';
import type { PipelineStats } from '../../src/media/stream-pipeline.js';
import type { InboundRtp } from '../helpers/chromium.js';
import { BOTH, eventually } from './browser-session.js';
import { MediaFixture, SETTINGS, workerProcesses } from './media-fixture.js';

const framesDecoded = (inbound: InboundRtp[]): number => inbound.find((entry) => entry.kind === 'video')?.framesDecoded ?? 0;

/** Alive and not a zombie waiting for a reaper. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('encoder crashes and lifecycle', { timeout: 120_000 }, () => {
  let fixture: MediaFixture;
  const pipeline = (stream: string): PipelineStats | undefined =>
    (fixture.service.pipelineStats().pipelines as PipelineStats[]).find((p) => p.stream === stream);

  before(async () => {
    fixture = await MediaFixture.start({ lingerMs: 300 });
  });
  after(async () => {
    await fixture?.stop();
    assert.deepEqual(workerProcesses(), [], 'no pipeline worker outlives the service');
  });

  test('a SIGKILLed encoder: media-down, then media-up once restarted, and the viewer decodes again after renegotiation', async () => {
    const { viewer, peer, session } = await fixture.watch({ ...BOTH, codecPreferences: ['H264'] });
    await peer.waitForInbound((inbound) => framesDecoded(inbound) > 0);
    const killed = pipeline('test/H264')?.pid;
    assert.ok(killed);
    const down = once(viewer, 'media-down');
    const up = once(viewer, 'media-up');
    process.kill(killed, 'SIGKILL');
    const [reason] = (await down) as [string];
    assert.match(reason, /SIGKILL/);
    assert.equal(pipeline('test/H264')?.state === 'running', false, 'down while the encoder is away');
    await up;
    const restarted = pipeline('test/H264');
    assert.equal(restarted?.state, 'running');
    assert.equal(restarted?.restarts, 1);
    assert.notEqual(restarted?.pid, killed);
    await session.renegotiate();
    const before = framesDecoded(await peer.inboundRtp());
    const inbound = await peer.waitForInbound((i) => framesDecoded(i) > before + 30);
    assert.ok(framesDecoded(inbound) > before + 30, 'decoding resumed');
  });

  test('an encoder stops shortly after its last viewer leaves and starts again for the next one', async () => {
    const first = await fixture.watch({ ...BOTH, codecPreferences: ['VP8'] });
    await first.peer.waitForInbound((inbound) => framesDecoded(inbound) > 0);
    const pid = pipeline('test/VP8')?.pid;
    assert.ok(pid);
    first.viewer.close();
    assert.ok(await eventually(() => !running(pid), 10_000), 'the worker exited');
    assert.ok(await eventually(() => pipeline('test/VP8')?.state === 'idle', 5000), 'the pipeline is idle');
    const second = await fixture.watch({ ...BOTH, codecPreferences: ['VP8'] });
    const inbound = await second.peer.waitForInbound((i) => framesDecoded(i) > 0);
    assert.ok(framesDecoded(inbound) > 0);
  });

  test('a source that cannot start is refused with MEDIA_UNAVAILABLE and leaves no process', async () => {
    const service = await GstreamerMediaService.create({ ...SETTINGS, source: { kind: 'x11', display: ':4093' } });
    try {
      const viewer = service.createViewer('no-display');
      await assert.rejects(viewer.createOffer(BOTH), { code: 'MEDIA_UNAVAILABLE' });
      viewer.close();
    } finally {
      await service.stop();
    }
    assert.ok(workerProcesses().every((worker) => !worker.args.includes('ximagesrc')));
  });

  test('when the server is SIGKILLed its encoder workers exit too', async () => {
    const holder = spawn(
      process.execPath,
      [fileURLToPath(new URL('./fixtures/hold-pipelines.js', import.meta.url))],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = once(holder, 'exit');
    let pids: number[] = [];
    try {
      const [line] = (await once(holder.stdout!, 'data')) as [Buffer];
      pids = JSON.parse(line.toString()) as number[];
      assert.equal(pids.length, 2);
      assert.ok(pids.every(running));
      holder.kill('SIGKILL');
      await exited;
      assert.ok(await eventually(() => !pids.some(running), 10_000), 'the workers ended with their parent');
    } finally {
      holder.kill('SIGKILL');
      for (const pid of pids.filter(running)) process.kill(pid, 'SIGKILL');
    }
  });
});
