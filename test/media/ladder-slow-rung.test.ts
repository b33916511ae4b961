/**
 * A move to a lower rung costs an encoder; on a saturated 2-core host that encoder can be slow to give its first
 * keyframe (docs/rate-control.md, "The ladder", *Switching rungs*). Until it does, the viewer keeps the picture of
 * the rung it was on: here the small rung's encoder is frozen (SIGSTOP) when the move is asked for, the browser
 * must keep decoding the full picture, and once the encoder runs again the viewer switches to it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WeriftViewer } from '../../src/media/werift-viewer.js';
import type { InboundRtp } from '../helpers/chromium.js';
import { descendants } from '../helpers/processes.js';
import { eventually } from './browser-session.js';
import { MediaFixture, SETTINGS, workerProcesses } from './media-fixture.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const video = (inbound: InboundRtp[]): InboundRtp | undefined => inbound.find((entry) => entry.kind === 'video');

test('a viewer moved to a rung whose encoder is stalled keeps decoding its old rung until the new one delivers', { timeout: 120_000 }, async (t) => {
  // Without adaptive bitrate no tick moves the viewer back: the test moves it by hand.
  const fixture = await MediaFixture.start({ lingerMs: 30_000 }, { ...SETTINGS, adaptiveBitrate: false });
  let frozen: number[] = [];
  t.after(async () => {
    for (const pid of frozen) process.kill(pid, 'SIGCONT');
    await fixture.stop();
    assert.deepEqual(workerProcesses(), []);
  });
  const { viewer, peer } = await fixture.watch({ video: true, audio: false, codecPreferences: ['H264'] });
  await peer.waitForInbound((inbound) => video(inbound)?.frameWidth === SETTINGS.width && (video(inbound)?.framesDecoded ?? 0) > 0);

  // The encoder starts with its first subscriber: one kept warm (as --keep-warm does) starts it before the move.
  const small = await fixture.service.videoPipeline('H264', 'small');
  const release = await small.attach({ rtp: () => undefined, down: () => undefined, up: () => undefined, keepsWarm: true });
  t.after(release);
  // Running, and its first keyframe gone to the warm subscriber: a packet still on its way would switch the viewer.
  await eventually(() => small.stats().framesSent > 30);
  const smallWorker = workerProcesses().find((worker) => worker.args.includes('videoscale'));
  assert.ok(smallWorker, `the small rung has its own encoder: ${JSON.stringify(workerProcesses())}`);
  // The worker and anything it runs: the whole encoder stalls.
  frozen = [smallWorker.pid, ...descendants(smallWorker.pid).map((child) => child.pid)];
  for (const pid of frozen) process.kill(pid, 'SIGSTOP');
  await sleep(500);

  (viewer as WeriftViewer).moveToRung('small');
  const before = video(await peer.inboundRtp())?.framesDecoded ?? 0;
  await sleep(5000);
  const during = video(await peer.inboundRtp());
  assert.equal(during?.frameWidth, SETTINGS.width, 'still the full picture while the small encoder is stalled');
  // 5 s at 30 fps is 150 frames: a generous bound for a loaded host, far above none.
  assert.ok((during?.framesDecoded ?? 0) > before + 30, `frames keep decoding from the old rung: ${before} → ${during?.framesDecoded}`);

  for (const pid of frozen) process.kill(pid, 'SIGCONT');
  frozen = [];
  const moved = video(await peer.waitForInbound((inbound) => video(inbound)?.frameWidth === SETTINGS.width / 2, 30_000));
  assert.equal(moved?.frameWidth, SETTINGS.width / 2, 'the viewer switches once the small encoder delivers');
  const switched = moved?.framesDecoded ?? 0;
  const later = video(await peer.waitForInbound((inbound) => (video(inbound)?.framesDecoded ?? 0) > switched + 20));
  assert.ok((later?.framesDecoded ?? 0) > switched + 20, 'frames keep decoding on the small rung');
});
