import type { BandwidthEstimate } from './bandwidth-estimator.js';
import type { RungName } from './ladder-policy.js';

/**
 * One viewer's rate control as the `stats` message shows it (its video figures' `congestion` object, read
 * by the viewer's overlay): kbit/s and milliseconds, rounded, snake_case like the rest of the message.
 */
export interface CongestionFigures {
  estimate_kbps: number;
  delay_based_kbps: number;
  loss_based_kbps: number;
  remb_kbps: number | null;
  source: BandwidthEstimate['source'];
  usage: BandwidthEstimate['usage'];
  loss_fraction: number;
  rtt_ms: number | null;
  acked_kbps: number | null;
  send_kbps: number | null;
  rung: RungName;
  rung_target_kbps: number | null;
  pacer_queue_ms: number;
  start_phase: boolean;
}

export function congestionFigures(
  estimate: BandwidthEstimate,
  rung: { name: RungName; targetBps: number | null },
  pacerQueueMs: number,
): CongestionFigures {
  return {
    estimate_kbps: kbps(estimate.bps),
    delay_based_kbps: kbps(estimate.delayBasedBps),
    loss_based_kbps: kbps(estimate.lossBasedBps),
    remb_kbps: kbpsOrNull(estimate.rembBps),
    source: estimate.source,
    usage: estimate.usage,
    loss_fraction: Math.round(estimate.lossFraction * 1000) / 1000,
    rtt_ms: estimate.rttMs === null ? null : Math.round(estimate.rttMs),
    acked_kbps: kbpsOrNull(estimate.ackedBps),
    send_kbps: kbpsOrNull(estimate.sentBps),
    rung: rung.name,
    rung_target_kbps: kbpsOrNull(rung.targetBps),
    pacer_queue_ms: Math.round(pacerQueueMs),
    start_phase: estimate.inStartPhase,
  };
}

function kbps(bps: number): number {
  return Math.round(bps / 1000);
}

function kbpsOrNull(bps: number | null): number | null {
  return bps === null ? null : kbps(bps);
}
