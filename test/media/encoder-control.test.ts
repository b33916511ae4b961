import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { GstreamerMediaService } from '../../src/media/gstreamer-media-service.js';
import { registerMediaMetrics } from '../../src/media/metrics.js';
import { eventually } from './browser-session.js';
import { SETTINGS, workerProcesses } from './media-fixture.js';

const ignore = { rtp: () => undefined, down: () => undefined, up: () => undefined };

test('setBitrate retunes the running encoders of both codecs, and the Prometheus gauges show it', { timeout: 60_000 }, async (t) => {
  const service = await GstreamerMediaService.create({ ...SETTINGS, bitrate: 1500 });
  t.after(async () => {
    await service.stop();
    assert.deepEqual(workerProcesses(), []);
  });
  const pipelines = await Promise.all([service.videoPipeline('H264'), service.videoPipeline('VP8')]);
  await Promise.all(pipelines.map((pipeline) => pipeline.attach(ignore)));
  for (const pipeline of pipelines) {
    assert.ok(await eventually(() => pipeline.stats().sentKbps > 900), `${pipeline.key} sends near its 1500 kbit/s`);
  }
  service.setBitrate(300);
  for (const pipeline of pipelines) {
    assert.equal(pipeline.stats().bitrateKbps, 300);
    assert.ok(
      await eventually(() => pipeline.stats().sentKbps > 0 && pipeline.stats().sentKbps < 600),
      `${pipeline.key} follows the new bitrate: ${pipeline.stats().sentKbps} kbit/s`,
    );
  }
  const registry = new Registry();
  registerMediaMetrics(registry, service);
  const text = await registry.metrics();
  assert.match(text, /^streamgate_media_encoder_bitrate_kbps\{stream="test\/H264",codec="H264"\} 300$/m);
  assert.match(text, /^streamgate_media_pipeline_running\{stream="test\/VP8",codec="VP8"\} 1$/m);
  assert.match(text, /^streamgate_media_viewers 0$/m);
  assert.match(text, /^streamgate_media_fps\{stream="test\/H264",codec="H264"\} \d+/m);
});
