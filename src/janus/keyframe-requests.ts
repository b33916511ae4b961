import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import { logger } from '../log.js';
import { emptyReceiverReport, parseRtcpFeedback } from './rtcp-feedback.js';

const log = logger('janus.keyframes');

/**
 * How often the latch is renewed. The streaming plugin forgets it when the mountpoint is re-created or Janus
 * restarts, and a keyframe request sent before a new latch is lost; a few seconds bound that gap.
 */
const LATCH_INTERVAL_MS = 2_000;
/** Any SSRC of ours: Janus only needs a valid RTCP packet to learn where to send. */
const LATCH_SSRC = 0x5354_4754;

interface KeyframeRequestEvents {
  /** A viewer of the mountpoint wants a keyframe (Janus relays at most one request a second). */
  keyframe: ['pli' | 'fir'];
  /** The lowest bitrate (bit/s) the mountpoint's viewers asked for. */
  remb: [number];
}

/**
 * The RTP source's end of a mountpoint's video RTCP port. The streaming plugin relays its viewers' PLIs and
 * FIRs (as PLIs, at most one a second) and a REMB to the address that last sent a packet to that port: this
 * socket latches by sending an empty receiver report there, again every few seconds, and reports what comes back.
 */
export class KeyframeRequests extends EventEmitter<KeyframeRequestEvents> {
  /** Keyframe requests received so far. */
  requests = 0;
  private readonly latchTimer: NodeJS.Timeout;

  private constructor(
    private readonly socket: Socket,
    readonly janusRtcpPort: number,
    readonly janusHost: string,
  ) {
    super();
    socket.on('message', (datagram) => {
      for (const feedback of parseRtcpFeedback(datagram)) {
        if (feedback.kind === 'remb') {
          this.emit('remb', feedback.bitrate);
        } else {
          this.requests++;
          this.emit('keyframe', feedback.kind);
        }
      }
    });
    socket.on('error', (err) => log.error({ err, janusRtcpPort }, 'RTCP socket error'));
    this.latch();
    this.latchTimer = setInterval(() => this.latch(), LATCH_INTERVAL_MS);
    this.latchTimer.unref();
  }

  /** Binds a loopback socket and latches onto Janus's RTCP port of the mountpoint's video. */
  static async open(janusRtcpPort: number, janusHost = '127.0.0.1'): Promise<KeyframeRequests> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    // once() rejects when 'error' comes first.
    await once(socket, 'listening');
    return new KeyframeRequests(socket, janusRtcpPort, janusHost);
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): void {
    clearInterval(this.latchTimer);
    this.removeAllListeners();
    this.socket.close();
  }

  private latch(): void {
    this.socket.send(emptyReceiverReport(LATCH_SSRC), this.janusRtcpPort, this.janusHost, (err) => {
      if (err) log.warn({ err, port: this.janusRtcpPort }, 'could not latch onto Janus RTCP port');
    });
  }
}
