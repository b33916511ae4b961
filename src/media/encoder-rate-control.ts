import { logger } from '../log.js';
import type { BandwidthEstimate } from './congestion/bandwidth-estimator.js';
import { LadderPolicy, RUNGS, type RungName } from './congestion/ladder-policy.js';
import type { StreamPipeline } from './stream-pipeline.js';
import type { VideoCodec } from './types.js';
import type { ViewerRateControl } from './viewer-rate-control.js';

const log = logger('media.rate');

/** Received under this share of what was sent: the path holds the viewer back (as the estimator's start phase judges). */
const HELD_BACK_RECEIVED = 0.8;
/** Lost over this share: the path holds the viewer back (mobile's 2 % random loss does not count). */
const HELD_BACK_LOSS = 0.05;
/**
 * A rung's bitrate falling under this share of its last in one step is a sudden capacity drop: what was in
 * flight overflowed the bottleneck. Chromium, in the network lab, asked for no keyframe (0 PLIs) and showed
 * nothing until the next periodic one (GOP 3 s): ~2.5 s without video after the congested profile's drop.
 * That drop's first cut was to 0.2–0.3 of the last bitrate; the estimator's ordinary cuts near the link's
 * capacity are 0.58–0.67, and need no keyframe.
 */
const SHARP_FALL = 0.5;
/**
 * After a sharp fall, keyframes are forced this much later. The first restores motion once the queue has
 * drained. At the new rate x264 may be at its highest quantizer (the lab's congested drop: every frame at QP 51
 * on the painter's noise, the keyframe 3–4 kB), and a coarse keyframe's still parts stay coarse in the P-frames
 * that skip them; the second repaints them (A/B: latency back median 3.0 s against 3.8 s with the first alone;
 * docs/rate-control.md, "The second keyframe").
 */
const KEYFRAMES_AFTER_FALL_MS = [500, 2000] as const;
/**
 * A keyframe due this little after a tick is asked for at that tick. The ticks are 250 ms apart, but the
 * timer's clock is the event loop's (whole ms), so a tick can come a fraction of a ms before the due time
 * and the keyframe would wait a whole tick (seen in the lab: 750 ms after the fall instead of 500).
 */
const KEYFRAME_DUE_SLACK_MS = 50;

/**
 * Whether the path holds back what is sent to a viewer: it receives clearly less than it is sent, or loses
 * much of it. With REMB only there is no received rate: only loss can tell, else nothing does (undefined: the
 * estimate alone decides). No feedback for a while (`none`), or nothing sent or acknowledged of late, shows
 * nothing held back: on a loaded host that is a stalled browser or encoder, and a move would not help a dead
 * link either. The same holds when a viewer that gave TWCC stops (`hadTwcc`) and the estimate falls back to its
 * last REMB: TWCC stopping is the stall, not a REMB-only browser.
 */
export function heldBack(estimate: BandwidthEstimate, hadTwcc = false): boolean | undefined {
  if (estimate.lossFraction > HELD_BACK_LOSS) return true;
  if (estimate.source === 'remb' && !hadTwcc) return undefined;
  if (estimate.source === 'remb') return false;
  if (estimate.source === 'none' || estimate.ackedBps === null || estimate.sentBps === null) return false;
  return estimate.ackedBps < HELD_BACK_RECEIVED * estimate.sentBps;
}

/** Moves between rungs since start, by direction (`streamgate_media_rung_moves_total`). */
export interface RungMoves {
  up: number;
  down: number;
}

/** One viewer of a video codec, as the tick sees it. */
export interface EncoderViewer {
  id: string;
  codec: VideoCodec;
  control: ViewerRateControl;
  viewer: { moveToRung(rung: RungName): void };
}

/**
 * Sets the shared video encoders' bitrates from the estimates of their viewers, on a tick. Per codec a
 * LadderPolicy places every viewer on a rung (`full`, `reduced`, `small`). With `rungEncoders` each rung is its
 * own encoder: a bad link moves its viewer down instead of lowering everyone's picture, and the top rung
 * follows the best viewer up to the user's `--bitrate` (docs/rate-control.md, "The ladder"). Without, the one
 * encoder of the codec runs at the lowest occupied rung's bitrate: the worst link sets it for everyone.
 */
export class EncoderRateControl {
  private readonly policies = new Map<VideoCodec, LadderPolicy>();
  /** The bitrate each rung's encoder was last set to, kbit/s. */
  private readonly applied = new Map<string, number>();
  /** Per rung, when the keyframes after a sharp fall are due (KEYFRAMES_AFTER_FALL_MS), soonest first. */
  private readonly keyframeDue = new Map<string, number[]>();
  /** The rung index each viewer was last placed on, to count moves. */
  private readonly placed = new Map<string, number>();
  /** Viewers whose estimate has come from TWCC at some point (see `heldBack`). */
  private readonly twccSeen = new Set<string>();
  readonly moves: RungMoves = { up: 0, down: 0 };

  constructor(
    private readonly ceilingKbps: () => number,
    private readonly pipeline: (codec: VideoCodec, rung: RungName) => Promise<StreamPipeline>,
    private readonly rungEncoders: boolean,
  ) {}

  tick(viewers: readonly EncoderViewer[]): void {
    const byCodec = new Map<VideoCodec, EncoderViewer[]>();
    for (const viewer of viewers) byCodec.set(viewer.codec, [...(byCodec.get(viewer.codec) ?? []), viewer]);
    for (const codec of this.policies.keys()) if (!byCodec.has(codec)) this.policies.delete(codec);
    const present = new Set(viewers.map((viewer) => viewer.id));
    for (const id of this.placed.keys()) if (!present.has(id)) this.placed.delete(id);
    for (const id of this.twccSeen) if (!present.has(id)) this.twccSeen.delete(id);
    const ceilingBps = this.ceilingKbps() * 1000;
    const now = performance.now();
    for (const [codec, members] of byCodec) {
      let policy = this.policies.get(codec);
      if (!policy) this.policies.set(codec, (policy = new LadderPolicy({ ceilingBps, now: () => performance.now() })));
      policy.setCeiling(ceilingBps);
      const estimates = members.map(({ id, control }) => ({ id, pliCount: control.pliCount, ...control.estimator.estimate() }));
      for (const { id, source } of estimates) if (source === 'twcc') this.twccSeen.add(id);
      const inputs = estimates.map(({ id, pliCount, ...estimate }) => ({
        id,
        estimateBps: estimate.bps,
        settled: !estimate.inStartPhase,
        heldBack: heldBack(estimate, this.twccSeen.has(id)),
        pliCount,
      }));
      const decision = policy.update(inputs);
      const occupied = decision.rungs.filter((rung) => rung.targetBps !== null);
      const lowestBps = Math.min(...occupied.map((rung) => rung.targetBps!));
      const rungs = this.rungEncoders ? occupied : [{ name: 'full' as const, targetBps: lowestBps }];
      for (const rung of rungs) {
        if (rung.targetBps === null) continue;
        const kbps = Math.round(rung.targetBps / 1000);
        const slot = `${codec}/${rung.name}`;
        const before = this.applied.get(slot);
        const due = this.keyframeDue.get(slot);
        if (due !== undefined && now + KEYFRAME_DUE_SLACK_MS >= due[0]!) {
          due.shift();
          if (due.length === 0) this.keyframeDue.delete(slot);
          log.debug({ codec, rung: rung.name, kbps }, 'keyframe after a sharp fall of the bitrate');
          this.pipeline(codec, rung.name).then(
            (pipeline) => pipeline.requestKeyframe(),
            (err: unknown) => log.warn({ err, codec, rung: rung.name }, 'no encoder for the rung'),
          );
        }
        if (before === kbps) continue;
        this.applied.set(slot, kbps);
        // The frames in flight were lost at the bottleneck; the decoder needs a keyframe, small at the new rate,
        // and retransmitting them would only add to the overflowing queue.
        if (before !== undefined && kbps < SHARP_FALL * before) {
          this.keyframeDue.set(slot, KEYFRAMES_AFTER_FALL_MS.map((ms) => now + ms));
          for (const { id, control } of members) if (!this.rungEncoders || RUNGS[decision.rungOf.get(id) ?? 0] === rung.name) control.forgetSentVideo();
        }
        log.debug({ codec, rung: rung.name, kbps, estimates }, 'encoder bitrate follows its viewers');
        this.pipeline(codec, rung.name).then(
          (pipeline) => pipeline.setBitrate(kbps),
          (err: unknown) => {
            // Not applied: the encoder a later move starts for this rung must still be set to the rung's bitrate.
            if (this.applied.get(slot) === kbps) this.applied.delete(slot);
            log.warn({ err, codec, rung: rung.name }, 'no encoder for the rung');
          },
        );
      }
      for (const { id, control, viewer } of members) {
        const index = decision.rungOf.get(id) ?? 0;
        const before = this.placed.get(id);
        if (before !== undefined && before !== index) {
          this.moves[index > before ? 'down' : 'up']++;
          // Rare and costly (another encoder): what moved it, and what every viewer of the codec showed then.
          log.info({ codec, id, from: RUNGS[before], to: RUNGS[index], viewers: estimates.map((e, i) => ({ ...e, heldBack: inputs[i]!.heldBack })) }, 'viewer moves rung');
        }
        this.placed.set(id, index);
        const rung = RUNGS[index]!;
        if (!this.rungEncoders) {
          control.setRung(rung, lowestBps);
          continue;
        }
        control.setRung(rung, decision.rungs.find((r) => r.name === rung)?.targetBps ?? ceilingBps);
        viewer.moveToRung(rung);
      }
    }
  }
}
