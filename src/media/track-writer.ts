import type { MediaStreamTrack } from 'werift';
import type { RtpHeaderInfo } from './rtp-inspect.js';
import type { ViewerRateControl } from './viewer-rate-control.js';

/** What one viewer's track remembers between packets of the shared encoder feeding it. */
export interface TrackFeed {
  track: MediaStreamTrack;
  lastSsrc?: number;
}

/**
 * Writes a shared encoder's RTP packet to one viewer's werift track: its own copy (werift keeps sent packets
 * for retransmission, docs/architecture.md, "werift"), video through the viewer's pacer, audio at once.
 */
export function writeToTrack(feed: TrackFeed, packet: Buffer, header: RtpHeaderInfo, rate: ViewerRateControl | undefined, paced: boolean): void {
  const copy = Buffer.from(packet);
  const write = (rtp: Buffer): void => {
    // A restarted or switched encoder starts a new SSRC with its own numbering; werift then keeps the viewer's
    // stream continuous. Checked as the packet leaves the pacer: queued packets of the old SSRC keep theirs.
    if (feed.lastSsrc !== undefined && feed.lastSsrc !== header.ssrc) feed.track.notifySourceChanged({ sequenceNumber: 0, timestamp: 0 });
    feed.lastSsrc = header.ssrc;
    feed.track.writeRtp(rtp);
  };
  if (!rate) write(copy);
  else if (paced) rate.sendPaced(copy, write);
  else rate.send(copy, write);
}
