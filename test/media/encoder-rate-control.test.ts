/**
 * The tick that turns viewers' estimates into rungs and encoder bitrates (encoder-rate-control.ts), with
 * stand-ins for the viewers and encoders: which viewer is moved, and what each rung's encoder is set to.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RungName } from '../../src/media/congestion/ladder-policy.js';
import { EncoderRateControl, type EncoderViewer } from '../../src/media/encoder-rate-control.js';
import type { StreamPipeline } from '../../src/media/stream-pipeline.js';
import type { ViewerRateControl } from '../../src/media/viewer-rate-control.js';

const CEILING_KBPS = 2500;

function fakeViewer(id: string, estimateBps: number): EncoderViewer & { moves: RungName[]; paced: number[]; forgot: { count: number } } {
  const moves: RungName[] = [];
  const paced: number[] = [];
  const forgot = { count: 0 };
  const control = {
    // REMB-only stand-ins: no received rate to back a move down, so the estimate alone decides (heldBack()).
    estimator: { estimate: () => ({ bps: estimateBps, inStartPhase: false, source: 'remb', lossFraction: 0 }) },
    setRung: (_rung: RungName, targetBps: number) => paced.push(targetBps),
    forgetSentVideo: () => forgot.count++,
  } as unknown as ViewerRateControl;
  return { id, codec: 'H264', control, viewer: { moveToRung: (rung) => moves.push(rung) }, moves, paced, forgot };
}

test('a slow viewer moves down a rung after the confirmation time while the fast one keeps the full rung at the ceiling', async () => {
  const bitrates = new Map<string, number[]>();
  const control = new EncoderRateControl(
    () => CEILING_KBPS,
    (codec, rung) => {
      const pipeline = { setBitrate: (kbps: number) => bitrates.set(`${codec}/${rung}`, [...(bitrates.get(`${codec}/${rung}`) ?? []), kbps]) };
      return Promise.resolve(pipeline as unknown as StreamPipeline);
    },
    true,
  );
  const fast = fakeViewer('fast', 10_000_000);
  const slow = fakeViewer('slow', 1_000_000);
  control.tick([fast, slow]);
  assert.deepEqual([fast.moves.at(-1), slow.moves.at(-1)], ['full', 'full'], 'both start on the top rung');
  await new Promise((resolve) => setTimeout(resolve, 700));
  control.tick([fast, slow]);
  await Promise.resolve();
  assert.equal(fast.moves.at(-1), 'full');
  // The reduced rung's floor is 40 % of the top rung (1 Mbit/s here): a 1 Mbit/s link goes below it, to small.
  assert.equal(slow.moves.at(-1), 'small', 'the 1 Mbit/s viewer leaves the 2.5 Mbit/s rung');
  assert.deepEqual(bitrates.get('H264/full'), [CEILING_KBPS], 'the top rung stays at the ceiling');
  const small = bitrates.get('H264/small')?.at(-1) ?? 0;
  assert.ok(small > 600 && small < 1000, `the small rung fits the slow link: ${small} kbit/s`);
  assert.equal(slow.paced.at(-1), small * 1000, 'the slow viewer is paced at its rung’s bitrate');
});

test('without rung encoders the one encoder follows the slowest viewer and nobody is moved', async () => {
  const bitrates: number[] = [];
  const control = new EncoderRateControl(
    () => CEILING_KBPS,
    (_codec, rung) => {
      assert.equal(rung, 'full', 'only the full rung has an encoder');
      return Promise.resolve({ setBitrate: (kbps: number) => bitrates.push(kbps) } as unknown as StreamPipeline);
    },
    false,
  );
  const fast = fakeViewer('fast', 10_000_000);
  const slow = fakeViewer('slow', 1_000_000);
  control.tick([fast, slow]);
  await new Promise((resolve) => setTimeout(resolve, 700));
  control.tick([fast, slow]);
  await Promise.resolve();
  assert.deepEqual([fast.moves, slow.moves], [[], []]);
  const last = bitrates.at(-1) ?? 0;
  assert.ok(last > 600 && last < 1000, `the encoder fits the slow link: ${last} kbit/s`);
  assert.equal(fast.paced.at(-1), last * 1000, 'every viewer is paced at the encoder’s bitrate');
});

test('a sharp fall of the bitrate drops what is kept for retransmission and is followed by a keyframe at the new rate 500 ms later, and another once the rate control settled, 2 s later', async () => {
  const events: string[] = [];
  const control = new EncoderRateControl(
    () => CEILING_KBPS,
    () => Promise.resolve({ setBitrate: (kbps: number) => events.push(`bitrate ${kbps}`), requestKeyframe: () => events.push('keyframe') } as unknown as StreamPipeline),
    false,
  );
  let estimateBps = 10_000_000;
  const viewer = fakeViewer('v', 0);
  (viewer.control as unknown as { estimator: { estimate: () => object } }).estimator.estimate = () => ({ bps: estimateBps, inStartPhase: false, source: 'remb', lossFraction: 0 });
  const tick = async (): Promise<void> => {
    control.tick([viewer]);
    await new Promise((resolve) => setImmediate(resolve));
  };
  await tick();
  estimateBps = 2_000_000; // 2500 → ~1.6 Mbit/s: not sharp
  await tick();
  assert.equal(viewer.forgot.count, 0, 'an ordinary cut keeps the retransmission history');
  estimateBps = 700_000; // → ~0.5 Mbit/s: the link dropped
  await tick();
  await tick();
  assert.equal(viewer.forgot.count, 1, 'the sharp fall drops the retransmission history, once');
  assert.ok(!events.includes('keyframe'), `no keyframe at once: ${events.join(', ')}`);
  // A tick a little before the due time (the 250 ms timer is not exact) asks for it: not a whole tick later.
  await new Promise((resolve) => setTimeout(resolve, 470));
  await tick();
  await tick();
  assert.deepEqual(events.filter((e) => e === 'keyframe'), ['keyframe'], `one keyframe after the sharp fall: ${events.join(', ')}`);
  assert.match(events.at(-2) ?? '', /^bitrate [45]\d\d$/, 'the rate fell before it');
  await new Promise((resolve) => setTimeout(resolve, 1550));
  await tick();
  await tick();
  assert.deepEqual(events.filter((e) => e === 'keyframe'), ['keyframe', 'keyframe'], `the second keyframe: ${events.join(', ')}`);
});
