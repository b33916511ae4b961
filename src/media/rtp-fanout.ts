import { createSocket, type Socket } from 'node:dgram';
import { logger } from '../log.js';
import { parseRtpHeader, type RtpHeaderInfo } from './rtp-inspect.js';

const log = logger('media.fanout');

export type RtpListener = (packet: Buffer, header: RtpHeaderInfo) => void;

/**
 * The loopback UDP socket one encoder sends RTP to, and the listeners each datagram is handed to.
 * One socket per stream however many viewers watch: the fan-out to viewers happens here, in memory.
 */
export class RtpFanout {
  private readonly listeners = new Set<RtpListener>();
  packets = 0;
  bytes = 0;
  /**
   * The SSRC of the worker that sends here now; undefined while none does. RTP with any other SSRC is
   * dropped: it is from a worker that is going away (or is gone, still in the socket's buffer).
   */
  ssrc: number | undefined;
  /**
   * A worker starting alongside the current one (make-before-break): its RTP is dropped until `startsAt`
   * accepts a packet, from which on its SSRC is the current one and the other worker's RTP is dropped.
   */
  successor: { ssrc: number; startsAt(header: RtpHeaderInfo): boolean } | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (packet) => {
      const header = parseRtpHeader(packet);
      // Anything on this loopback port that is not RTP would make werift throw later, off our stack.
      if (!header) return;
      if (header.ssrc !== this.ssrc) {
        const next = this.successor;
        if (!next || header.ssrc !== next.ssrc || !next.startsAt(header)) return;
        this.ssrc = next.ssrc;
        this.successor = undefined;
      }
      this.packets++;
      this.bytes += packet.length;
      for (const listener of this.listeners) {
        // One viewer's failure must not starve the others of packets.
        try {
          listener(packet, header);
        } catch (err) {
          log.error({ err }, 'RTP listener failed');
        }
      }
    });
    socket.on('error', (err) => log.error({ err, port }, 'RTP socket error'));
  }

  /** Binds a fresh socket on an ephemeral loopback port. */
  static async open(): Promise<RtpFanout> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // A keyframe arrives as a burst of ~100 datagrams; the default buffer drops some when Node is busy.
    socket.setRecvBufferSize(4 * 1024 * 1024);
    return new RtpFanout(socket, socket.address().port);
  }

  /** Returns the function that removes the listener. */
  add(listener: RtpListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.listeners.clear();
    this.socket.close();
  }
}
