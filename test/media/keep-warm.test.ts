/**
 * --keep-warm: the default codec's video encoder and the audio encoder run from the start with nobody watching
 * (a first viewer finds them running), are not counted as viewers, never idle-stop, and stop with the service.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GstreamerMediaService } from '../../src/media/gstreamer-media-service.js';
import { eventually } from './browser-session.js';
import { SETTINGS, workerProcesses } from './media-fixture.js';

test('kept warm: H264 and Opus run without viewers, outlive the idle stop, and end with the service', { timeout: 60_000 }, async () => {
  const service = await GstreamerMediaService.create(SETTINGS, { lingerMs: 200 });
  try {
    service.keepWarm();
    const running = (): string[] => service.streamStats().filter((s) => s.state === 'running').map((s) => s.codec).sort();
    assert.ok(await eventually(() => running().length === 2, 30_000), `running: ${JSON.stringify(service.streamStats())}`);
    assert.deepEqual(running(), ['H264', 'OPUS']);
    assert.deepEqual(service.streamStats().map((s) => s.viewers), [0, 0], 'keeping warm is not a viewer');
    // An encoder without viewers stops 200 ms after the last one left (lingerMs); the warm ones stay.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual(running(), ['H264', 'OPUS']);
  } finally {
    await service.stop();
  }
  assert.deepEqual(workerProcesses(), [], 'no worker outlives the service');
});
