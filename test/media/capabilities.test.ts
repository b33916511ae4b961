import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GstreamerMediaService } from '../../src/media/gstreamer-media-service.js';
import { SETTINGS } from './media-fixture.js';

/** Runs `body` with GStreamer seeing no plugins at all (an empty plugin folder and a fresh registry). */
async function withoutGstPlugins(body: () => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'streamgate-gst-'));
  const names = ['GST_PLUGIN_SYSTEM_PATH_1_0', 'GST_PLUGIN_PATH_1_0', 'GST_REGISTRY_1_0'] as const;
  const saved = names.map((name) => process.env[name]);
  Object.assign(process.env, { GST_PLUGIN_SYSTEM_PATH_1_0: dir, GST_PLUGIN_PATH_1_0: dir, GST_REGISTRY_1_0: join(dir, 'registry.bin') });
  try {
    await body();
  } finally {
    names.forEach((name, i) => {
      const value = saved[i];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    });
    rmSync(dir, { recursive: true, force: true });
  }
}

test('an x11 source without ximagesrc is refused at start, naming the element and its Debian package', async () => {
  await withoutGstPlugins(async () => {
    await assert.rejects(GstreamerMediaService.create({ ...SETTINGS, source: { kind: 'x11', display: ':0' } }), (err: Error) => {
      assert.match(err.message, /X display :0/);
      assert.match(err.message, /ximagesrc/);
      assert.match(err.message, /gstreamer1\.0-plugins-good/);
      return true;
    });
  });
});

test('the test source starts without ximagesrc (and without codecs, which requests then report)', async () => {
  await withoutGstPlugins(async () => {
    const service = await GstreamerMediaService.create(SETTINGS);
    try {
      assert.deepEqual(service.codecs, []);
    } finally {
      await service.stop();
    }
  });
});
