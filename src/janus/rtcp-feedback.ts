/**
 * Just enough RTCP parsing (RFC 3550 §6, RFC 4585 §6, RFC 5104 §4.3) to tell what the streaming plugin
 * sends an RTP source: keyframe requests (PLI, FIR) and the lowest bitrate its viewers asked for (REMB).
 */

export type RtcpFeedback =
  | { kind: 'pli'; mediaSsrc: number }
  | { kind: 'fir'; mediaSsrc: number }
  | { kind: 'remb'; bitrate: number };

const PT_RR = 201;
const PT_PSFB = 206;
const FMT_PLI = 1;
const FMT_FIR = 4;
const FMT_AFB = 15;

/** The feedback messages of a (compound) RTCP datagram; empty for anything else. */
export function parseRtcpFeedback(datagram: Buffer): RtcpFeedback[] {
  const found: RtcpFeedback[] = [];
  let offset = 0;
  while (offset + 4 <= datagram.length) {
    if (datagram[offset]! >> 6 !== 2) break;
    const fmt = datagram[offset]! & 0x1f;
    const pt = datagram[offset + 1]!;
    const length = (datagram.readUInt16BE(offset + 2) + 1) * 4;
    if (offset + length > datagram.length) break;
    const packet = datagram.subarray(offset, offset + length);
    if (pt === PT_PSFB && packet.length >= 12) {
      const mediaSsrc = packet.readUInt32BE(8);
      if (fmt === FMT_PLI) found.push({ kind: 'pli', mediaSsrc });
      // A FIR names its target in the FCI (its media SSRC field is 0).
      if (fmt === FMT_FIR && packet.length >= 20) found.push({ kind: 'fir', mediaSsrc: packet.readUInt32BE(12) });
      if (fmt === FMT_AFB && packet.length >= 20 && packet.toString('latin1', 12, 16) === 'REMB') {
        const exponent = packet[17]! >> 2;
        const mantissa = ((packet[17]! & 0x03) << 16) | packet.readUInt16BE(18);
        found.push({ kind: 'remb', bitrate: mantissa * 2 ** exponent });
      }
    }
    offset += length;
  }
  return found;
}

/** An empty receiver report from `ssrc`: the smallest valid RTCP packet, all a latch needs. */
export function emptyReceiverReport(ssrc: number): Buffer {
  const packet = Buffer.alloc(8);
  packet[0] = 0x80;
  packet[1] = PT_RR;
  packet.writeUInt16BE(1, 2);
  packet.writeUInt32BE(ssrc >>> 0, 4);
  return packet;
}
