import { startsPicture, type RtpHeaderInfo } from './rtp-inspect.js';
import type { VideoCodec } from './types.js';

/** More than a keyframe and a second of P-frames at the ceiling: past it the handshake is stuck, and nothing is kept. */
const MAX_PACKETS = 600;

/**
 * A joining viewer's video between ICE and DTLS. werift drops what is written before SRTP is ready, so the join
 * keyframe used to be asked for only once DTLS was up, and the first picture waited one capture and encode after
 * it (~25–40 ms of a warm page open: bench/notes/pageopen.md). Asked for when ICE connects instead, the keyframe is
 * encoded during the handshake: its packets and those after it are kept here, and sent the moment DTLS is up.
 * Packets before the first picture start are not kept (a decoder cannot start from them).
 */
class JoinBuffer {
  /** From a picture start on; empty until one comes. */
  private packets: { packet: Buffer; header: RtpHeaderInfo }[] = [];

  constructor(private readonly codec: VideoCodec) {}

  keep(packet: Buffer, header: RtpHeaderInfo): void {
    // x264 sends SPS and PPS, then the IDR, all with the picture's timestamp: each counts as a start, the first begins it.
    if (startsPicture(this.codec, header.payload) && header.timestamp !== this.packets[0]?.header.timestamp) this.packets = [];
    else if (this.packets.length === 0) return;
    this.packets.push({ packet, header });
    if (this.packets.length > MAX_PACKETS) this.packets = [];
  }

  /** What was kept from a picture start on (empty without one); the buffer is empty afterwards. */
  take(): { packet: Buffer; header: RtpHeaderInfo }[] {
    const kept = this.packets;
    this.packets = [];
    return kept;
  }
}

/** The encoder feeding the video leg, while attached. */
type KeyframeSource = () => { requestKeyframe(): void } | undefined;

/**
 * A new viewer's first picture: the keyframe asked for when ICE connects and kept (JoinBuffer) until DTLS is up.
 * Asked for at DTLS only when it was not at ICE (no encoder attached then). Later offers on the same transport
 * change nothing.
 */
export class VideoJoin {
  private buffer: JoinBuffer | null = null;
  private askedAtIce = false;
  private ready = false;

  constructor(
    private readonly encoder: KeyframeSource,
    private readonly send: (packet: Buffer, header: RtpHeaderInfo) => void,
  ) {}

  /** DTLS came up: SRTP can flow. */
  get dtlsUp(): boolean {
    return this.ready;
  }

  /** ICE connected: the keyframe is asked for now, while DTLS is still to come. `encoding` is the video leg's. */
  iceConnected(encoding: VideoCodec | 'OPUS' | undefined): void {
    if (this.ready || this.buffer || !encoding || encoding === 'OPUS') return;
    this.buffer = new JoinBuffer(encoding);
    const encoder = this.encoder();
    encoder?.requestKeyframe();
    this.askedAtIce = encoder !== undefined;
  }

  /**
   * DTLS came up: what was kept from the keyframe on goes out now. A keyframe asked for at ICE that has not come
   * yet is on its way and is sent as it comes; asking again would only add one.
   */
  dtlsReady(): void {
    this.ready = true;
    const kept = this.buffer?.take() ?? [];
    this.buffer = null;
    if (!this.askedAtIce) this.encoder()?.requestKeyframe();
    for (const { packet, header } of kept) this.send(packet, header);
  }

  /** Whether the packet was kept for DTLS (the caller sends nothing now). */
  held(packet: Buffer, header: RtpHeaderInfo): boolean {
    if (this.ready || !this.buffer) return false;
    this.buffer.keep(Buffer.from(packet), header);
    return true;
  }
}
