import { RTCRtpCodecParameters, useTransportWideCC } from 'werift';
import type { VideoCodec } from './types.js';

/**
 * What the server's offer says about each codec: the feedback it takes and the format parameters. Only the
 * codec a viewer is given is offered to it (werift-viewer.ts).
 */

/** `twcc` offers transport-cc; goog-remb stays for browsers that do not answer it (docs/rate-control.md, "The estimator"). */
export function videoCodecParameters(codec: VideoCodec, twcc: boolean): RTCRtpCodecParameters {
  const feedback = [
    ...(twcc ? [{ type: 'transport-cc' }] : []),
    { type: 'nack' },
    { type: 'nack', parameter: 'pli' },
    { type: 'ccm', parameter: 'fir' },
    { type: 'goog-remb' },
  ];
  return new RTCRtpCodecParameters(
    codec === 'H264'
      ? {
          mimeType: 'video/H264',
          clockRate: 90000,
          rtcpFeedback: feedback,
          // Constrained baseline 3.1: what x264 is told to produce, and what Chromium decodes.
          parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
        }
      : { mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback: feedback },
  );
}

/** In-band FEC (a lost 20 ms packet is rebuilt from the next) and DTX (silence costs ~1 packet per 400 ms). */
export function opusParameters(twcc: boolean): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: 'audio/OPUS',
    clockRate: 48000,
    channels: 2,
    rtcpFeedback: twcc ? [{ type: 'transport-cc' }] : [],
    parameters: 'minptime=10;useinbandfec=1;usedtx=1',
  });
}

/**
 * One extension object for both kinds: werift numbers the extensions of all kinds in a row (audio's got id 1,
 * video's id 2), and in a BUNDLE Chromium then read the transport-wide number of one kind only — TWCC
 * reported the video as 93 % lost on loopback. The shared object ends with one id for both.
 */
export function sharedTransportWideCC(): { video: ReturnType<typeof useTransportWideCC>[]; audio: ReturnType<typeof useTransportWideCC>[] } {
  const extension = useTransportWideCC();
  return { video: [extension], audio: [extension] };
}
