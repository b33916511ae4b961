import type { VideoCodec } from './types.js';

/**
 * Just enough RTP and bitstream parsing to tell, from the packets the encoder sends, where frames end,
 * which frames are keyframes and what size the picture is. The encoder runs in another process and
 * gstreamer-superficial exposes no pad probes, so the RTP stream is the one place the parent can see this.
 */

export interface RtpHeaderInfo {
  ssrc: number;
  timestamp: number;
  marker: boolean;
  payload: Buffer;
}

/** Parses the fixed header, CSRCs, extension and padding (RFC 3550 §5.1); undefined for a non-RTP datagram. */
export function parseRtpHeader(packet: Buffer): RtpHeaderInfo | undefined {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined;
  const csrcCount = packet[0]! & 0x0f;
  let offset = 12 + csrcCount * 4;
  if (packet[0]! & 0x10) {
    if (packet.length < offset + 4) return undefined;
    offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  }
  let end = packet.length;
  if (packet[0]! & 0x20) end -= packet[packet.length - 1]!;
  if (end < offset) return undefined;
  return {
    marker: (packet[1]! & 0x80) !== 0,
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(offset, end),
  };
}

export interface KeyframeInfo {
  /** The packet starts (part of) a keyframe. */
  keyframe: boolean;
  /** Picture size, when the packet carries it (an H.264 SPS, a VP8 keyframe header). */
  width?: number;
  height?: number;
}

export function inspectVideoPayload(codec: VideoCodec, payload: Buffer): KeyframeInfo {
  return codec === 'H264' ? inspectH264(payload) : inspectVp8(payload);
}

/**
 * Whether a decoder can start at this RTP payload, at a new picture size: an H.264 SPS (which comes first in
 * front of every IDR) or a VP8 keyframe.
 */
export function startsPicture(codec: VideoCodec, payload: Buffer): boolean {
  const info = inspectVideoPayload(codec, payload);
  return info.keyframe || info.width !== undefined;
}

const H264_IDR = 5;
const H264_SPS = 7;
const H264_STAP_A = 24;
const H264_FU_A = 28;

function inspectH264(payload: Buffer): KeyframeInfo {
  if (payload.length < 2) return { keyframe: false };
  const type = payload[0]! & 0x1f;
  if (type === H264_FU_A) {
    const startsIdr = (payload[1]! & 0x80) !== 0 && (payload[1]! & 0x1f) === H264_IDR;
    return { keyframe: startsIdr };
  }
  const nals: Buffer[] = [];
  if (type === H264_STAP_A) {
    for (let offset = 1; offset + 2 <= payload.length; ) {
      const size = payload.readUInt16BE(offset);
      nals.push(payload.subarray(offset + 2, offset + 2 + size));
      offset += 2 + size;
    }
  } else {
    nals.push(payload);
  }
  const info: KeyframeInfo = { keyframe: false };
  for (const nal of nals) {
    const nalType = nal[0]! & 0x1f;
    if (nalType === H264_IDR) info.keyframe = true;
    if (nalType === H264_SPS) Object.assign(info, parseSpsSize(nal));
  }
  return info;
}

function inspectVp8(payload: Buffer): KeyframeInfo {
  // RFC 7741 §4.2: the payload descriptor, then (at a partition start) the VP8 frame header.
  const first = payload[0];
  if (first === undefined) return { keyframe: false };
  const startOfPartition = (first & 0x10) !== 0 && (first & 0x07) === 0;
  if (!startOfPartition) return { keyframe: false };
  let offset = 1;
  if (first & 0x80) {
    const ext = payload[1] ?? 0;
    offset = 2;
    if (ext & 0x80) offset += (payload[offset] ?? 0) & 0x80 ? 2 : 1;
    if (ext & 0x40) offset += 1;
    if (ext & 0x30) offset += 1;
  }
  const frame = payload.subarray(offset);
  // The frame tag's lowest bit is 0 on a keyframe, which then carries start code 9d 01 2a and the size.
  if (frame.length < 10 || (frame[0]! & 0x01) !== 0) return { keyframe: false };
  if (frame[3] !== 0x9d || frame[4] !== 0x01 || frame[5] !== 0x2a) return { keyframe: true };
  return { keyframe: true, width: frame.readUInt16LE(6) & 0x3fff, height: frame.readUInt16LE(8) & 0x3fff };
}

/** Reads bits of an RBSP (emulation-prevention bytes already removed), exp-Golomb included. */
class BitReader {
  private bit = 0;
  constructor(private readonly bytes: Buffer) {}

  u(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) {
      const byte = this.bytes[this.bit >> 3];
      if (byte === undefined) throw new RangeError('SPS truncated');
      value = value * 2 + ((byte >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return value;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      if (++zeros > 31) throw new RangeError('bad exp-Golomb code');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const code = this.ue();
    return code % 2 === 1 ? (code + 1) / 2 : -code / 2;
  }
}

function removeEmulationPrevention(nal: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < nal.length; i++) {
    if (i >= 2 && nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) continue;
    out.push(nal[i]!);
  }
  return Buffer.from(out);
}

/** Profiles whose SPS carries chroma format, bit depths and scaling lists (H.264 §7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Picture size from an H.264 SPS NAL unit (header byte included); {} when it cannot be read. */
export function parseSpsSize(nal: Buffer): { width?: number; height?: number } {
  try {
    const r = new BitReader(removeEmulationPrevention(nal.subarray(1)));
    const profile = r.u(8);
    r.u(16); // constraint flags, level
    r.ue(); // seq_parameter_set_id
    let chromaFormat = 1;
    if (HIGH_PROFILES.has(profile)) {
      chromaFormat = r.ue();
      if (chromaFormat === 3) r.u(1);
      r.ue();
      r.ue();
      r.u(1);
      if (r.u(1)) {
        for (let i = 0; i < (chromaFormat === 3 ? 12 : 8); i++) {
          if (r.u(1)) skipScalingList(r, i < 6 ? 16 : 64);
        }
      }
    }
    r.ue(); // log2_max_frame_num_minus4
    const pocType = r.ue();
    if (pocType === 0) r.ue();
    else if (pocType === 1) {
      r.u(1);
      r.se();
      r.se();
      const cycle = r.ue();
      for (let i = 0; i < cycle; i++) r.se();
    }
    r.ue(); // max_num_ref_frames
    r.u(1);
    const widthMbs = r.ue() + 1;
    const heightMapUnits = r.ue() + 1;
    const frameMbsOnly = r.u(1);
    if (!frameMbsOnly) r.u(1);
    r.u(1);
    let [cropLeft, cropRight, cropTop, cropBottom] = [0, 0, 0, 0];
    if (r.u(1)) [cropLeft, cropRight, cropTop, cropBottom] = [r.ue(), r.ue(), r.ue(), r.ue()];
    const cropUnitX = chromaFormat === 0 || chromaFormat === 3 ? 1 : 2;
    const cropUnitY = (chromaFormat === 1 ? 2 : 1) * (2 - frameMbsOnly);
    return {
      width: widthMbs * 16 - (cropLeft + cropRight) * cropUnitX,
      height: (2 - frameMbsOnly) * heightMapUnits * 16 - (cropTop + cropBottom) * cropUnitY,
    };
  } catch {
    return {};
  }
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size && next !== 0; j++) {
    next = (last + r.se() + 256) % 256;
    if (next !== 0) last = next;
  }
}
