import { logger } from '../log.js';
import { LadderPolicy, RUNGS } from './congestion/ladder-policy.js';
import type { StreamPipeline } from './stream-pipeline.js';
import type { ViewerRateControl } from './viewer-rate-control.js';

const log = logger('media.rate');

/** One viewer of a video encoder, as the tick sees it. */
export interface EncoderViewer {
  id: string;
  pipeline: StreamPipeline;
  control: ViewerRateControl;
}

/**
 * Sets each shared video encoder's bitrate from the estimates of the viewers watching it, on a tick.
 * A LadderPolicy per encoder places every viewer on a rung; until rungs have encoders of their own, the one
 * encoder runs at the lowest occupied rung's bitrate, so the worst link sets everyone's bitrate and the user's
 * `--bitrate` is the ceiling (docs/rate-control.md, "Wiring").
 */
export class EncoderRateControl {
  private readonly policies = new Map<StreamPipeline, LadderPolicy>();

  constructor(private readonly ceilingKbps: () => number) {}

  tick(viewers: readonly EncoderViewer[]): void {
    const byPipeline = new Map<StreamPipeline, EncoderViewer[]>();
    for (const viewer of viewers) byPipeline.set(viewer.pipeline, [...(byPipeline.get(viewer.pipeline) ?? []), viewer]);
    for (const pipeline of this.policies.keys()) if (!byPipeline.has(pipeline)) this.policies.delete(pipeline);
    const ceilingBps = this.ceilingKbps() * 1000;
    for (const [pipeline, members] of byPipeline) {
      let policy = this.policies.get(pipeline);
      if (!policy) this.policies.set(pipeline, (policy = new LadderPolicy({ ceilingBps, now: () => performance.now() })));
      policy.setCeiling(ceilingBps);
      const estimates = members.map(({ id, control }) => ({ id, ...control.estimator.estimate() }));
      const decision = policy.update(estimates.map(({ id, bps, inStartPhase }) => ({ id, estimateBps: bps, settled: !inStartPhase })));
      const occupied = decision.rungs.flatMap((rung) => (rung.targetBps === null ? [] : [rung.targetBps]));
      const targetBps = Math.min(ceilingBps, ...occupied);
      const kbps = Math.round(targetBps / 1000);
      if (kbps !== pipeline.stats().bitrateKbps) {
        log.debug({ stream: pipeline.key, kbps, estimates }, 'encoder bitrate follows its viewers');
        pipeline.setBitrate(kbps);
      }
      for (const { id, control } of members) control.setRung(RUNGS[decision.rungOf.get(id) ?? 0]!, targetBps);
    }
  }
}
