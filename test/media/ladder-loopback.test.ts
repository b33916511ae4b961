/**
 * The ladder on loopback (docs/rate-control.md, "The ladder"): five Chromium viewers on one machine have
 * the same link, so with one encoder per rung they must all stay on the top rung, sharing one encoder, for
 * as long as they watch. On a loaded host their estimates dip now and then (the delay side reads the host's
 * scheduling as queueing); a dip that nothing on the path backs up — all that was sent arrives, nothing is
 * lost — must not move a viewer to an encoder of its own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CongestionFigures } from '../../src/media/congestion/congestion-stats.js';
import type { InboundRtp } from '../helpers/chromium.js';
import { BOTH } from './browser-session.js';
import { MediaFixture, SETTINGS, workerProcesses } from './media-fixture.js';

const decoding = (inbound: InboundRtp[]): boolean => inbound.some((entry) => entry.kind === 'video' && (entry.framesDecoded ?? 0) > 0);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const WATCH_S = 30;

test('five loopback viewers stay on the full rung and one encoder for 30 s with the ladder on', { timeout: 180_000 }, async (t) => {
  const fixture = await MediaFixture.start({ lingerMs: 1000 }, { ...SETTINGS, rungEncoders: true });
  t.after(async () => {
    await fixture.stop();
    assert.deepEqual(workerProcesses(), []);
  });
  const watchers = await Promise.all(Array.from({ length: 5 }, (_, i) => fixture.watch({ ...BOTH, codecPreferences: ['H264'] }, `ladder-${i}`)));
  for (const { peer } of watchers) await peer.waitForInbound(decoding);

  const seen: string[] = [];
  /** What backed each move off the full rung: received and sent kbit/s, loss, feedback source. */
  const moved: string[] = [];
  /** Every viewer's figures in the last seconds, kept to show what the others saw just before a first move. */
  const recent: string[] = [];
  let before: string[] | undefined;
  let lowestEstimate = Infinity;
  for (let s = 0; s < WATCH_S; s++) {
    await sleep(1000);
    const figures = await Promise.all(watchers.map(async ({ viewer }) => ((await viewer.stats()).video as { congestion?: CongestionFigures | null }).congestion));
    for (const f of figures) if (f && !f.start_phase) lowestEstimate = Math.min(lowestEstimate, f.estimate_kbps);
    const rungs = figures.map((f) => f?.rung ?? 'none');
    for (const f of figures) if (f && f.rung !== 'full') moved.push(`${s}s ${f.rung} est ${f.estimate_kbps} acked ${f.acked_kbps} sent ${f.send_kbps} loss ${f.loss_fraction} ${f.source} rtt ${f.rtt_ms}`);
    recent.push(`${s}s ${figures.map((f) => (f ? `${f.rung[0]} ${f.estimate_kbps}/${f.acked_kbps}/${f.send_kbps} ${f.source} ${f.rtt_ms}` : 'none')).join(', ')}`);
    if (recent.length > 3) recent.shift();
    if (!before && rungs.some((r) => r !== 'full')) before = [...recent];
    const encoders = workerProcesses().filter((worker) => worker.args.includes('x264enc')).length;
    seen.push(`${rungs.map((r) => r[0]).join('')}:${encoders}`);
  }
  t.diagnostic(`rungs (f/r/s per viewer) : H.264 encoders, each second: ${seen.join(' ')}; lowest settled estimate ${lowestEstimate} kbit/s`);
  if (moved.length > 0) t.diagnostic(`off the full rung: ${moved.slice(0, 12).join('; ')}`);
  if (before) t.diagnostic(`every viewer (rung estimate/acked/sent kbit/s, source, rtt ms) up to the first move: ${before.join('; ')}`);
  assert.ok(seen.every((s) => s === 'fffff:1'), `every viewer on the full rung, one encoder, throughout: ${seen.join(' ')}`);
});
