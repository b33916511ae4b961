import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LivenessSweep } from '../../src/signaling/liveness-sweep.js';
import { waitUntil } from '../helpers/processes.js';

/** Pings made in one synchronous run of the sweep: a microtask runs only after that run is over. */
let batch = 0;
let largestBatch = 0;

class Peer {
  pings = 0;
  timedOut = 0;
  constructor(public lastSeen: number) {}
  ping(): void {
    this.pings++;
    if (batch++ === 0) {
      queueMicrotask(() => {
        largestBatch = Math.max(largestBatch, batch);
        batch = 0;
      });
    }
  }
}


test('the liveness sweep pings every live connection once a period in slices, never all in one tick, and times out the silent ones', async () => {
  const peers = new Set<Peer>();
  for (let i = 0; i < 1000; i++) peers.add(new Peer(performance.now()));
  const silent = new Peer(performance.now() - 10_000);
  peers.add(silent);
  const sweep = new LivenessSweep(peers, 500, 5000, (peer) => {
    peer.timedOut++;
    peers.delete(peer);
  });
  try {
    await waitUntil('every live connection pinged', () => [...peers].every((p) => p.pings >= 1), 5000);
    assert.ok([...peers].every((p) => p.pings <= 2), 'nobody is pinged twice before everyone was pinged once');
    assert.equal(silent.timedOut, 1, 'the silent connection timed out once');
    assert.equal(silent.pings, 0, 'and was not pinged');
    assert.equal(largestBatch, 21, 'the work is sliced: a fiftieth of the connections per run of the sweep');
    const late = new Peer(performance.now());
    peers.add(late);
    await waitUntil('a connection added mid-round to be reached', () => late.pings >= 1, 5000);
  } finally {
    sweep.stop();
  }
});
