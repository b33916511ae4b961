/**
 * Rate control wired into a real viewer on loopback: Chromium answers transport-cc, its TWCC feedback reaches
 * the viewer's estimator, and the encoder's bitrate follows it under the ceiling (docs/rate-control.md).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { CongestionFigures } from '../../src/media/congestion/congestion-stats.js';
import { registerMediaMetrics } from '../../src/media/metrics.js';
import type { WeriftViewer } from '../../src/media/werift-viewer.js';
import { BOTH, eventually } from './browser-session.js';
import { MediaFixture, SETTINGS, workerProcesses } from './media-fixture.js';

const TWCC_EXTENSION = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

async function videoStats(viewer: { stats(): Promise<Record<string, unknown>> }): Promise<Record<string, unknown>> {
  return ((await viewer.stats()).video ?? {}) as Record<string, unknown>;
}

test('a Chromium viewer negotiates transport-cc, and its stats show a TWCC estimate and an encoder under the ceiling', { timeout: 90_000 }, async (t) => {
  const fixture = await MediaFixture.start();
  t.after(async () => {
    await fixture.stop();
    assert.deepEqual(workerProcesses(), []);
  });
  const { viewer, peer, session } = await fixture.watch(BOTH);
  assert.match(session.offerSdp, /a=rtcp-fb:\d+ transport-cc/);
  assert.match(session.offerSdp, /a=rtcp-fb:\d+ goog-remb/, 'REMB stays offered for browsers without TWCC');
  assert.ok(session.offerSdp.includes(TWCC_EXTENSION), 'the transport-wide sequence number extension is offered');
  assert.match(session.offerSdp, /a=fmtp:\d+ [^\r\n]*useinbandfec=1;usedtx=1/, 'Opus offers in-band FEC and DTX');

  let congestion: CongestionFigures | undefined;
  const settled = await eventually(async () => {
    congestion = (await videoStats(viewer)).congestion as CongestionFigures | undefined;
    return congestion?.source === 'twcc' && !congestion.start_phase;
  }, 20_000);
  assert.ok(settled, `the estimate comes from TWCC feedback after the start phase: ${JSON.stringify(congestion)}`);
  assert.ok(congestion!.estimate_kbps > 0, `a positive estimate: ${congestion!.estimate_kbps}`);
  // The estimate may exceed the ceiling (it bounds what the link could take); the encoder never does.
  assert.ok(congestion!.estimate_kbps <= 2 * SETTINGS.bitrate, `estimate ${congestion!.estimate_kbps} kbit/s`);
  assert.ok(congestion!.rung_target_kbps !== null && congestion!.rung_target_kbps > 0 && congestion!.rung_target_kbps <= SETTINGS.bitrate);
  assert.equal(congestion!.rung, 'full');
  assert.ok(congestion!.send_kbps !== null && congestion!.send_kbps > 0, 'packets are numbered and counted as they leave');
  const [video] = fixture.service.streamStats().filter((stats) => stats.kind === 'video');
  assert.ok(video && video.bitrateKbps !== null && video.bitrateKbps <= SETTINGS.bitrate, `encoder at ${video?.bitrateKbps} kbit/s`);

  const frames = await peer.waitForInbound((inbound) => (inbound.find((i) => i.kind === 'video')?.framesDecoded ?? 0) > 30);
  assert.ok((frames.find((i) => i.kind === 'video')?.framesDecoded ?? 0) > 30, 'paced video still decodes');

  const registry = new Registry();
  registerMediaMetrics(registry, fixture.service);
  const text = await registry.metrics();
  assert.match(text, /^streamgate_media_viewer_estimate_kbps_count 1$/m);
  assert.match(text, /^streamgate_media_rung_viewers\{rung="full"\} 1$/m);
});

test('with adaptive bitrate off the offer has no transport-cc and the encoder keeps the fixed bitrate', { timeout: 90_000 }, async (t) => {
  const fixture = await MediaFixture.start({}, { ...SETTINGS, adaptiveBitrate: false });
  t.after(async () => {
    await fixture.stop();
    assert.deepEqual(workerProcesses(), []);
  });
  const { viewer, peer, session } = await fixture.watch(BOTH);
  assert.doesNotMatch(session.offerSdp, /transport-cc/);
  assert.ok(!session.offerSdp.includes(TWCC_EXTENSION));
  const frames = await peer.waitForInbound((inbound) => (inbound.find((i) => i.kind === 'video')?.framesDecoded ?? 0) > 60);
  assert.ok((frames.find((i) => i.kind === 'video')?.framesDecoded ?? 0) > 60);
  const video = await videoStats(viewer);
  assert.equal(video.congestion, null);
  for (const stats of fixture.service.streamStats().filter((s) => s.kind === 'video')) assert.equal(stats.bitrateKbps, SETTINGS.bitrate);
});

test('a viewer moved to the small rung gets half the picture from its own encoder, keeps decoding, and moves back', { timeout: 120_000 }, async (t) => {
  // Without adaptive bitrate no tick moves the viewer back: the test moves it by hand.
  const fixture = await MediaFixture.start({ lingerMs: 1000 }, { ...SETTINGS, adaptiveBitrate: false });
  t.after(async () => {
    await fixture.stop();
    assert.deepEqual(workerProcesses(), []);
  });
  const { viewer, peer } = await fixture.watch({ video: true, audio: false, codecPreferences: ['H264'] });
  const video = (inbound: Awaited<ReturnType<typeof peer.inboundRtp>>) => inbound.find((i) => i.kind === 'video');
  const full = video(await peer.waitForInbound((inbound) => video(inbound)?.frameWidth === SETTINGS.width));
  assert.equal(full?.frameWidth, SETTINGS.width);

  (viewer as WeriftViewer).moveToRung('small');
  const small = video(await peer.waitForInbound((inbound) => video(inbound)?.frameWidth === SETTINGS.width / 2, 20_000));
  assert.equal(small?.frameWidth, SETTINGS.width / 2, 'the small rung is half the width');
  assert.equal(small?.frameHeight, SETTINGS.height / 2);
  assert.ok(workerProcesses().some((worker) => worker.args.includes('videoscale')), 'the small rung has its own encoder');
  const before = small?.framesDecoded ?? 0;
  const later = video(await peer.waitForInbound((inbound) => (video(inbound)?.framesDecoded ?? 0) > before + 20));
  assert.ok((later?.framesDecoded ?? 0) > before + 20, 'frames keep decoding on the small rung');
  assert.ok(await eventually(() => workerProcesses().filter((worker) => worker.args.includes('x264enc')).length === 1), 'the full rung’s encoder stops once nobody watches it');

  (viewer as WeriftViewer).moveToRung('full');
  const back = video(await peer.waitForInbound((inbound) => video(inbound)?.frameWidth === SETTINGS.width, 20_000));
  assert.equal(back?.frameWidth, SETTINGS.width, 'back to the full picture');
  assert.ok(await eventually(() => !workerProcesses().some((worker) => worker.args.includes('videoscale'))), 'the small rung’s encoder stops once empty');
});
