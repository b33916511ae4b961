import type { VideoCodec } from '../media/types.js';

/**
 * Payload types and H.264 profile of the RTP our encoders send (src/media/pipeline-description.ts). The
 * streaming plugin relays packets as they come and offers viewers the payload type it was configured with,
 * so the two must agree or the browser drops every packet.
 */
export const ENCODER_VIDEO_PT = 96;
export const ENCODER_AUDIO_PT = 111;
/** x264 is forced to constrained baseline, the profile this promises (see the caps in the pipeline). */
export const H264_FMTP = 'profile-level-id=42e01f;packetization-mode=1';

/** The media ids Janus's offer uses for the two streams. */
export const VIDEO_MID = 'v';
export const AUDIO_MID = 'a';

/** An RTP mountpoint fed by one video encoder and (optionally) the source's Opus encoder. */
export interface MountpointSpec {
  /** Our own id for it (Janus picks one when absent); fixed ids let a restarted Janus get the same ones back. */
  id?: number;
  description: string;
  video?: {
    codec: VideoCodec;
    /** UDP port Janus receives the RTP on; 0 lets it pick one from its `rtp_port_range`. */
    port: number;
    /**
     * Port Janus receives RTCP on and sends viewers' keyframe requests from (0 = it picks). Janus sends them
     * to the address that last sent it a packet there, so the sender must latch first (see KeyframeRequests).
     */
    rtcpPort?: number;
  };
  audio?: { port: number };
}

/** The body of the streaming plugin's `create` request for `spec`. */
export function createRequest(spec: MountpointSpec, adminKey: string | undefined): Record<string, unknown> {
  const media: Record<string, unknown>[] = [];
  if (spec.video) {
    media.push({
      type: 'video',
      mid: VIDEO_MID,
      port: spec.video.port,
      ...(spec.video.rtcpPort === undefined ? {} : { rtcpport: spec.video.rtcpPort }),
      pt: ENCODER_VIDEO_PT,
      codec: spec.video.codec === 'H264' ? 'h264' : 'vp8',
      ...(spec.video.codec === 'H264' ? { fmtp: H264_FMTP } : {}),
    });
  }
  if (spec.audio) {
    media.push({ type: 'audio', mid: AUDIO_MID, port: spec.audio.port, pt: ENCODER_AUDIO_PT, codec: 'opus' });
  }
  if (media.length === 0) throw new Error(`mountpoint ${spec.description} has neither video nor audio`);
  return {
    request: 'create',
    type: 'rtp',
    ...(adminKey === undefined ? {} : { admin_key: adminKey }),
    ...(spec.id === undefined ? {} : { id: spec.id }),
    description: spec.description,
    // Listed, so that `list` finds it (e.g. to clean up after a crash of ours); viewers need no PIN.
    is_private: false,
    media,
  };
}
