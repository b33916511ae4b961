/**
 * The network lab does what its profiles say: round trips match the configured delay ± jitter, loss
 * and reordering happen at their rates, and tbf caps a bulk transfer at the configured rate (and follows
 * a change of rate mid-run). Bounds are generous: the machine is shared and the bridge runs in Python.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NetLab } from '../helpers/netlab/lab.js';
import { tcpThroughput, udpFlood, udpPing } from '../helpers/netlab/measure.js';
import { NO_IMPAIRMENT, PROFILES, queueFor, type LinkProfile } from '../helpers/netlab/profiles.js';
import { percentile } from '../../bench/lib/stats.js';

function custom(fields: { down?: Partial<LinkProfile['down']['impairment']>; up?: Partial<LinkProfile['up']['impairment']>; rateKbit?: number; queueMs?: number }): LinkProfile {
  const shaping = fields.rateKbit ? { rateKbit: fields.rateKbit, queueBytes: queueFor(fields.rateKbit, fields.queueMs ?? 100) } : null;
  return {
    name: 'custom',
    description: 'made by the test',
    down: { impairment: { ...NO_IMPAIRMENT, ...fields.down }, shaping },
    up: { impairment: { ...NO_IMPAIRMENT, ...fields.up }, shaping },
    seed: 42,
    schedule: [],
  };
}

const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);

describe('network lab impairment', { timeout: 300_000 }, () => {
  let lab: NetLab;
  before(async () => {
    lab = await NetLab.create();
  });
  after(async () => {
    await lab?.destroy();
  });

  test('lan: fast round trips, nothing lost', async () => {
    await lab.apply(PROFILES.lan);
    const result = await udpPing(lab, 200, 5);
    assert.equal(result.received, result.sent, `lost probes on an unimpaired link: ${JSON.stringify(result)}`);
    assert.ok(percentile(sorted(result.rttsMs), 50) < 20, `median RTT ${percentile(sorted(result.rttsMs), 50)} ms on lan`);
  });

  test('delay: RTT is the sum of both directions', async () => {
    await lab.apply(custom({ down: { delayMs: 40 }, up: { delayMs: 10 } }));
    const rtts = sorted((await udpPing(lab, 100, 20)).rttsMs);
    assert.ok(rtts[0]! >= 49, `fastest RTT ${rtts[0]} ms, below the 50 ms configured`);
    assert.ok(percentile(rtts, 50) < 70, `median RTT ${percentile(rtts, 50)} ms, configured 50`);
  });

  test('jitter: RTT spreads within delay ± jitter', async () => {
    await lab.apply(custom({ down: { delayMs: 30, jitterMs: 15 }, up: { delayMs: 30, jitterMs: 15 } }));
    // Probes 100 ms apart: order keeping (bridge.py) then never stretches one probe's delay by another's.
    const rtts = sorted((await udpPing(lab, 150, 100)).rttsMs);
    assert.ok(rtts[0]! >= 29, `fastest RTT ${rtts[0]} ms, below 60 − 30`);
    // The median is the lab's; the tail is also the scheduler's (a user-space bridge on a busy machine), so it
    // only gets a bound that says the delay is not piling up.
    assert.ok(percentile(rtts, 50) < 110, `median RTT ${percentile(rtts, 50)} ms, above 60 + 30 (+ slack)`);
    assert.ok(percentile(rtts, 95) < 400, `p95 RTT ${percentile(rtts, 95)} ms: delay piles up`);
    assert.ok(percentile(rtts, 90) - percentile(rtts, 10) > 10, `RTT does not spread: p10 ${percentile(rtts, 10)}, p90 ${percentile(rtts, 90)}`);
  });

  test('loss: the configured share of packets is lost', async () => {
    await lab.apply(custom({ down: { loss: 0.1 } }));
    const before = await lab.bridgeCounts();
    const result = await udpPing(lab, 1000, 3);
    const lost = 1 - result.received / result.sent;
    assert.ok(lost > 0.06 && lost < 0.14, `lost ${(lost * 100).toFixed(1)} % of 1000 probes, configured 10 %`);
    const counts = await lab.bridgeCounts();
    assert.ok(counts.down.lost - before.down.lost >= result.sent - result.received, `bridge counted ${counts.down.lost - before.down.lost} lost`);
    assert.equal(counts.up.lost, before.up.lost, 'the up direction lost packets though only down is lossy');
  });

  test('reorder: some packets arrive after later ones', async () => {
    await lab.apply(custom({ down: { reorder: 0.05, reorderMs: 30 } }));
    const result = await udpPing(lab, 400, 5);
    assert.equal(result.received, result.sent, 'reordering lost packets');
    assert.ok(result.outOfOrder >= 5 && result.outOfOrder <= 50, `${result.outOfOrder} of 400 out of order, configured 5 %`);
  });

  test('a bad impairment is refused whole, and the bridge keeps running', async () => {
    await lab.apply(custom({ down: { delayMs: 20 } }));
    await assert.rejects(lab.apply(custom({ down: { delayMs: 5 }, up: { loss: 1.5 } })), /up\.loss must be within 0\.\.1/);
    const rtts = sorted((await udpPing(lab, 20, 20)).rttsMs);
    assert.ok(rtts[0]! >= 19, `fastest RTT ${rtts[0]} ms: the refused profile's 5 ms down delay was applied`);
  });

  test('rate: tbf caps a TCP bulk transfer, and follows a change mid-run', async () => {
    await lab.apply(custom({ rateKbit: 4000 }));
    const fast = await tcpThroughput(lab, 'down', 4);
    assert.ok(fast > 3.0 && fast < 4.4, `${fast.toFixed(2)} Mbit/s through a 4 Mbit/s link`);
    await lab.setRate('down', 1000);
    const slow = await tcpThroughput(lab, 'down', 4);
    assert.ok(slow > 0.7 && slow < 1.15, `${slow.toFixed(2)} Mbit/s through a 1 Mbit/s link`);
    const up = await tcpThroughput(lab, 'up', 3);
    assert.ok(up > 3.0 && up < 4.4, `${up.toFixed(2)} Mbit/s up: the change of the down rate reached the up link`);
  });

  test('queue depth: a deep queue adds delay under load, a shallow one does not', async () => {
    // 3 Mbit/s of UDP into a 2 Mbit/s link keeps its queue full; probes start once it has filled.
    const underLoad = async (name: 'bufferbloat' | 'shallow'): Promise<number> => {
      await lab.apply(PROFILES[name]);
      const flood = udpFlood(lab, 3000, 6);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const [ping] = await Promise.all([udpPing(lab, 40, 50), flood]);
      return percentile(sorted(ping.rttsMs), 50);
    };
    const deep = await underLoad('bufferbloat');
    const shallow = await underLoad('shallow');
    assert.ok(deep > 600, `median RTT ${deep.toFixed(0)} ms under load with a 1 s queue`);
    assert.ok(shallow < 80, `median RTT ${shallow.toFixed(0)} ms under load with a three-packet queue`);
  });
});
