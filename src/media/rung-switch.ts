import { startsPicture } from './rtp-inspect.js';
import type { StreamPipeline, StreamSubscriber } from './stream-pipeline.js';
import type { VideoCodec } from './types.js';

/**
 * Subscribes to another rung's encoder but passes its RTP on only from the start of its next keyframe
 * (an H.264 SPS, which comes first in front of every IDR, or a VP8 keyframe): a decoder can start there,
 * at the new picture size. Until then the caller keeps forwarding the old encoder; `onSwitch` runs at the
 * first packet passed on, where the caller detaches the old one (docs/rate-control.md, "The ladder").
 */
export async function attachAtKeyframe(
  next: StreamPipeline,
  codec: VideoCodec,
  subscriber: StreamSubscriber,
  onSwitch: () => void,
): Promise<() => void> {
  let attached = false;
  let switched = false;
  const detach = await next.attach({
    ...subscriber,
    rtp: (packet, header) => {
      if (!switched) {
        // Before attach() resolves the caller cannot yet detach the old encoder: wait for the keyframe asked for below.
        if (!attached || !startsPicture(codec, header.payload)) return;
        switched = true;
        onSwitch();
      }
      subscriber.rtp(packet, header);
    },
  });
  attached = true;
  next.requestKeyframe();
  return detach;
}
