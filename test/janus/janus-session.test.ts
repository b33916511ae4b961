import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { JanusError } from '../../src/janus/janus-error.js';
import { JanusSession } from '../../src/janus/janus-session.js';
import { StreamingHandle } from '../../src/janus/streaming-handle.js';
import { JanusServer } from '../helpers/janus-server.js';

const SESSION_TIMEOUT_S = 2;

describe('Janus sessions stay alive on keepalives', { timeout: 60_000 }, () => {
  let janus: JanusServer;
  before(async () => {
    janus = await JanusServer.start({ sessionTimeoutS: SESSION_TIMEOUT_S });
  });
  after(async () => {
    await janus?.dispose();
  });

  test('a session with keepalives outlives the session timeout; one without is timed out and reports it gone', async () => {
    const kept = await JanusSession.connect({ url: janus.url, apiSecret: janus.apiSecret, keepaliveMs: 500 });
    const neglected = await JanusSession.connect({ url: janus.url, apiSecret: janus.apiSecret, keepaliveMs: 60_000 });
    try {
      const gone = once(neglected, 'gone') as Promise<[JanusError]>;
      // Janus's watchdog checks every 2 s: give it a few rounds past the timeout.
      await new Promise((resolve) => setTimeout(resolve, (SESSION_TIMEOUT_S * 3 + 1) * 1000));
      const [reason] = await gone;
      assert.ok(reason.sessionGone, reason.message);
      assert.ok(!kept.isGone, 'the kept session is still there');
      const handle = await StreamingHandle.attach(kept);
      assert.deepEqual(await handle.list(), []);
    } finally {
      await kept.destroy();
      await neglected.destroy();
    }
  });
});
