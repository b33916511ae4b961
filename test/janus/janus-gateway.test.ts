import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { JanusError } from '../../src/janus/janus-error.js';
import { JanusGateway, type OwnMountpoint } from '../../src/janus/janus-gateway.js';
import { JanusSession } from '../../src/janus/janus-session.js';
import { StreamingHandle } from '../../src/janus/streaming-handle.js';
import { JanusServer } from '../helpers/janus-server.js';

const H264_AND_OPUS: OwnMountpoint = { id: 77, description: 'x11:1/H264', video: { codec: 'H264', port: 0, rtcpPort: 0 }, audio: { port: 0 } };

function within<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);
}

describe('JanusGateway keeps our mountpoints provisioned', { timeout: 90_000 }, () => {
  let janus: JanusServer;
  let gateway: JanusGateway | undefined;
  before(async () => {
    janus = await JanusServer.start();
  });
  after(async () => {
    await gateway?.stop();
    await janus?.dispose();
  });

  async function listIds(): Promise<number[]> {
    const session = await JanusSession.connect({ url: janus.url, apiSecret: janus.apiSecret });
    try {
      return (await (await StreamingHandle.attach(session)).list()).map((m) => m.id);
    } finally {
      await session.destroy();
    }
  }

  test('provision replaces a leftover, a Janus restart brings the same mountpoint back, stop removes it', async () => {
    // A leftover of an earlier run of ours, under the id we are about to use.
    const earlier = await JanusSession.connect({ url: janus.url, apiSecret: janus.apiSecret });
    await (await StreamingHandle.attach(earlier)).create({ ...H264_AND_OPUS, audio: undefined }, janus.adminKey);
    await earlier.destroy();

    gateway = await JanusGateway.start({
      session: { url: janus.url, apiSecret: janus.apiSecret },
      adminKey: janus.adminKey,
      reconnect: { minMs: 200, maxMs: 1000 },
    });
    const created = await gateway.provision(H264_AND_OPUS);
    assert.ok(created.audio, 'the replacement has the audio the leftover lacked');
    assert.deepEqual(await listIds(), [77]);

    const down = once(gateway, 'down') as Promise<[JanusError]>;
    await janus.kill();
    const [reason] = await within('down after SIGKILL', down, 10_000);
    assert.ok(reason.sessionGone, reason.message);
    assert.equal(gateway.isUp, false);
    // Janus stays away for a few reconnection attempts.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const up = once(gateway, 'up');
    await janus.restart();
    await within('up after the restart', up, 15_000);
    assert.equal(gateway.isUp, true);
    assert.deepEqual(await listIds(), [77]);
    const handle = await gateway.viewerHandle();
    const info = await handle.info(77);
    assert.deepEqual(
      info.media.map((m) => [m.type, m.port]),
      [
        ['video', created.video?.port],
        ['audio', created.audio?.port],
      ],
      'the same ports as before',
    );
    assert.equal(info.media[0]?.rtcpport, created.video?.rtcpPort);

    await gateway.stop();
    gateway = undefined;
    assert.deepEqual(await listIds(), []);
  });
});
