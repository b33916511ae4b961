import { PictureLossIndication, RtcpPayloadSpecificFeedback, type RTCDtlsTransport, type RTCRtpSender, type RtcpPacket } from 'werift';
import { BandwidthEstimator, type BandwidthEstimate } from './congestion/bandwidth-estimator.js';
import { congestionFigures, type CongestionFigures } from './congestion/congestion-stats.js';
import type { RungName } from './congestion/ladder-policy.js';
import { Pacer } from './congestion/pacer.js';
import { routeFeedback, writeCounted } from './congestion/werift-feedback.js';

/** The lowest estimate a viewer can have: below it no rung would carry a picture anyway. */
const MIN_ESTIMATE_BPS = 150_000;

/** What the encoders' rate control reads from one viewer (docs/rate-control.md, "The ladder"). */
export interface ViewerRate {
  id: string;
  estimate: BandwidthEstimate;
}

/**
 * One viewer's side of rate control: its bandwidth estimator, fed from every RTCP packet of its bundle
 * transport, and the pacer its video leaves through. Every packet (video through the pacer, audio directly)
 * is written with `writeCounted`, which tells the estimator the transport-wide number werift gave it
 * (docs/rate-control.md, "What werift exposes, and its traps").
 */
export class ViewerRateControl {
  readonly estimator: BandwidthEstimator;
  private readonly pacer: Pacer<{ packet: Buffer; write: (packet: Buffer) => void }>;
  private transport: RTCDtlsTransport | undefined;
  private video: RTCRtpSender | undefined;
  private unsubscribe: (() => void) | undefined;
  private rung: { name: RungName; targetBps: number | null } = { name: 'full', targetBps: null };
  /** Picture-loss requests for the video so far: a viewer that keeps sending them moves down a rung (ladder-policy.ts). */
  pliCount = 0;

  constructor(ceilingBps: number) {
    const now = (): number => performance.now();
    this.estimator = new BandwidthEstimator({ initialBps: ceilingBps, minBps: MIN_ESTIMATE_BPS, maxBps: 2 * ceilingBps, now });
    this.pacer = new Pacer(ceilingBps, ({ packet, write }) => this.write(packet, write), {
      now,
      schedule: (delayMs, callback) => {
        const timer = setTimeout(callback, delayMs);
        return () => clearTimeout(timer);
      },
    });
  }

  /**
   * Starts reading feedback from the bundle's transport (once connected; again after an ICE restart replaced
   * it). `video` is the sender whose receiver reports carry the loss and whose round-trip time werift measures.
   */
  observe(transport: RTCDtlsTransport, video: RTCRtpSender | undefined, senders: readonly RTCRtpSender[]): void {
    this.video = video;
    if (transport === this.transport) return;
    this.unsubscribe?.();
    this.transport = transport;
    const { unSubscribe } = transport.onRtcp.subscribe((packet: RtcpPacket) => {
      routeFeedback(packet, this.estimator, { report: video?.ssrc ?? -1, all: senders.map((s) => s.ssrc) }, () => rttMs(video));
      if (packet instanceof RtcpPayloadSpecificFeedback && packet.feedback instanceof PictureLossIndication && packet.feedback.mediaSsrc === video?.ssrc) this.pliCount++;
    });
    this.unsubscribe = unSubscribe;
  }

  /** Video: queued and spread over time at a multiple of the encoder's bitrate. */
  sendPaced(packet: Buffer, write: (packet: Buffer) => void): void {
    this.pacer.enqueue({ packet, write }, packet.length);
  }

  /** Audio: small packets, late audio is worse than late video — written at once, still counted. */
  send(packet: Buffer, write: (packet: Buffer) => void): void {
    this.write(packet, write);
  }

  /** The rung the viewer is on and the bitrate of the encoder it watches: the pacer follows that bitrate. */
  setRung(name: RungName, targetBps: number): void {
    this.rung = { name, targetBps };
    this.pacer.setTargetBitrate(targetBps);
  }

  /**
   * Forgets the video werift keeps for retransmission, after a sudden capacity drop: the packets sent at the
   * old rate were lost at the bottleneck, and werift answers the browser's NACKs for them at once, unpaced, into
   * the same overflowing queue (loss stayed at 35–58 % for a second after the encoder was cut under the link).
   * A keyframe follows (encoder-rate-control.ts), and it is what repairs the picture.
   */
  forgetSentVideo(): void {
    // werift's `rtpCache` (private in its typings): a NACKed number whose slot holds nothing is not answered.
    const cache = (this.video as unknown as { rtpCache?: unknown } | undefined)?.rtpCache;
    if (Array.isArray(cache)) cache.length = 0;
  }

  figures(): CongestionFigures {
    return congestionFigures(this.estimator.estimate(), this.rung, this.pacer.queueDelayMs);
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.pacer.close();
  }

  private write(packet: Buffer, write: (packet: Buffer) => void): void {
    const transport = this.transport;
    if (!transport) {
      write(packet);
      return;
    }
    writeCounted(transport, this.estimator, packet.length, performance.now(), () => write(packet));
  }
}

/**
 * werift's own round-trip time for a sender (seconds, from its SRs and the browser's LSR/DLSR). Private in
 * its typings but the only correct one: werift's SR NTP fraction is malformed, so LSR/DLSR cannot be turned
 * into a time here (docs/rate-control.md, "What werift exposes, and its traps").
 */
function rttMs(sender: RTCRtpSender | undefined): number | null {
  const rtt = (sender as unknown as { rtt?: unknown } | undefined)?.rtt;
  return typeof rtt === 'number' && Number.isFinite(rtt) ? rtt * 1000 : null;
}
