import { RUNG_SHAPE, type RungName } from './congestion/ladder-policy.js';
import type { SourceSpec, VideoCodec } from './types.js';
import type { WorkerConfig } from './worker-protocol.js';

/**
 * What one encoder produces. Audio has its own stream, separate from video, so that viewers of either
 * video codec (and audio-only viewers) share one Opus encoder per source.
 */
export type StreamSpec =
  | {
      kind: 'video';
      source: SourceSpec;
      codec: VideoCodec;
      /** Size of the `test` source; X sources capture the screen's own size. */
      width: number;
      height: number;
      framerate: number;
      bitrateKbps: number;
      /** The ladder's rung this encoder serves (docs/rate-control.md, "The ladder"); `full` when absent. */
      rung?: RungName;
      /** Draw the desktop's pointer into the picture (X sources); default true. See pointer-policy.ts. */
      showPointer?: boolean;
    }
  | { kind: 'audio'; source: SourceSpec };

/** A stable name for a stream: one encoder (one worker) exists per key. */
export function streamKey(spec: StreamSpec): string {
  const source = spec.source.kind === 'x11' ? `x11${spec.source.display}` : 'test';
  if (spec.kind === 'audio') return `${source}/opus`;
  return spec.rung && spec.rung !== 'full' ? `${source}/${spec.codec}/${spec.rung}` : `${source}/${spec.codec}`;
}

/** Payload types of the RTP the encoders emit; werift rewrites them to the negotiated ones. */
const VIDEO_PT = 96;
const AUDIO_PT = 111;
/** Leaves room for werift's header extensions and SRTP's tag under a 1500-byte path MTU. */
const RTP_MTU = 1200;
/**
 * Seconds between periodic keyframes: the safety net behind keyframes on demand, 2–4 s apart
 * (docs/architecture.md, "Keyframes and packetization").
 */
const GOP_SECONDS = 3;

/** X display names go into the launch string, so only their documented form is accepted. */
const DISPLAY_NAME = /^[A-Za-z0-9._-]*:\d+(\.\d+)?$/;

/** PulseAudio server strings (unix socket path, or tcp host:port) and device names: nothing that could end an element. */
const PULSE_SERVER = /^(unix:)?\/[\w./-]+$|^tcp[46]?:[\w.:[\]-]+$/;
const PULSE_DEVICE = /^[\w.@-]+$/;

/**
 * The raw audio of a source: the test tone, the desktop's PulseAudio monitor, or silence for an X source
 * without one (the audio track a viewer asked for is always there).
 */
function audioSource(source: SourceSpec): string {
  if (source.kind === 'test') return 'audiotestsrc is-live=true wave=sine freq=440 volume=0.2';
  if (!source.audio) return 'audiotestsrc is-live=true wave=silence';
  const { server, device } = source.audio;
  if (!PULSE_SERVER.test(server)) throw new Error(`refusing PulseAudio server ${JSON.stringify(server)}: expected unix:/path or tcp:host:port`);
  if (!PULSE_DEVICE.test(device)) throw new Error(`refusing PulseAudio device ${JSON.stringify(device)}`);
  // 10 ms periods in a 20 ms buffer: PulseAudio's default (2 s buffer, ~1 s latency) would put the sound far behind the picture.
  return `pulsesrc server=${server} device=${device} client-name=streamgate buffer-time=20000 latency-time=10000`;
}

/** Where a worker sends its RTP, and the SSRC it sends with (which tells its packets from an earlier worker's). */
export interface RtpTarget {
  port: number;
  /** 0 … 2^32 − 2: the payloaders read 2^32 − 1 as "pick one at random". */
  ssrc: number;
}

/** The gst-launch description and control handles of the pipeline sending `spec` as RTP to 127.0.0.1:`rtp.port`. */
export function describePipeline(spec: StreamSpec, rtp: RtpTarget): WorkerConfig {
  const sink = `udpsink host=127.0.0.1 port=${rtp.port} sync=false async=false`;
  if (spec.kind === 'audio') {
    return {
      launch: [
        audioSource(spec.source),
        'audioconvert',
        'audioresample',
        'audio/x-raw,rate=48000,channels=2',
        // In-band FEC rebuilds a lost 20 ms packet from the next one; DTX sends almost nothing in silence
        // (docs/rate-control.md, "Loss recovery").
        'opusenc bitrate=64000 inband-fec=true packet-loss-percentage=10 dtx=true',
        `rtpopuspay pt=${AUDIO_PT} mtu=${RTP_MTU} ssrc=${rtp.ssrc}`,
        sink,
      ].join(' ! '),
    };
  }
  const shape = RUNG_SHAPE[spec.rung ?? 'full'];
  const framerate = Math.max(1, Math.round(spec.framerate * shape.fpsScale));
  const keyint = Math.max(1, Math.round(framerate * GOP_SECONDS));
  const encoder =
    spec.codec === 'H264'
      ? [
          // I420 + constrained-baseline caps make x264 produce what the offer's 42e01f promises
          // (without them it picks High 4:4:4, which Chromium does not decode).
          'video/x-raw,format=I420',
          // A 200 ms VBV bounds a keyframe to ~200 ms of the bitrate, so it fits the link the bitrate was
          // chosen for (the 600 ms default allowed 128 kB keyframes; docs/rate-control.md, "Encoder rate control").
          // One slice per frame, on one thread (zerolatency's sliced threads cut every frame into a slice per
          // thread): Chromium hands out an H.264 frame from its first packet present, and decoded an IDR whose
          // top slice was lost as a keyframe, the top of the picture broken until the next IDR (docs/rate-control.md,
          // "What decides the first seconds"). Frame threads instead would add a frame of latency per thread.
          `x264enc name=${ENCODER} tune=zerolatency speed-preset=ultrafast bitrate=${spec.bitrateKbps} vbv-buf-capacity=200 sliced-threads=false threads=1 key-int-max=${keyint}`,
          'video/x-h264,profile=constrained-baseline',
          // SPS/PPS with every IDR, each NAL unit in its own packet: with aggregate-mode=zero-latency (or max)
          // Chromium dropped the frame after every forced IDR and sent a PLI, a keyframe loop at ~3/s
          // (measured: 30 PLIs in 9 s with zero-latency, 0 with none).
          `rtph264pay name=${PAYLOADER} config-interval=-1 aggregate-mode=none pt=${VIDEO_PT} mtu=${RTP_MTU} ssrc=${rtp.ssrc}`,
        ]
      : [
          // Buffers of a few hundred ms (the defaults bank seconds) and keyframes capped at 3 frames' worth.
          `vp8enc name=${ENCODER} deadline=1 cpu-used=8 end-usage=cbr buffer-size=300 buffer-initial-size=200 buffer-optimal-size=250 ` +
            `max-intra-bitrate=300 target-bitrate=${spec.bitrateKbps * 1000} keyframe-max-dist=${keyint}`,
          `rtpvp8pay name=${PAYLOADER} pt=${VIDEO_PT} mtu=${RTP_MTU} ssrc=${rtp.ssrc}`,
        ];
  return {
    launch: [...videoSource(spec.source, { ...spec, framerate }), ...scaled(spec, shape.sizeScale), 'videoconvert', ...encoder, sink].join(' ! '),
    control: {
      encoder: ENCODER,
      bitrateProperty: spec.codec === 'H264' ? 'bitrate' : 'target-bitrate',
      unitsPerKbit: spec.codec === 'H264' ? 1 : 1000,
      // A force-key-unit event travels upstream from the payloader's sink pad to the encoder.
      keyUnitElement: PAYLOADER,
      ...(spec.source.kind === 'x11' ? { pointerElement: CAPTURE } : {}),
    },
  };
}

const ENCODER = 'venc';
const CAPTURE = 'vsrc';
const PAYLOADER = 'vpay';

/**
 * A rung's smaller picture. The X source's own size is known only from the capture, so it is scaled to the
 * configured size's share: exact for the virtual desktop, whose screen is that size.
 */
function scaled(size: { width: number; height: number }, scale: number): string[] {
  if (scale === 1) return [];
  const even = (n: number): number => Math.max(16, 2 * Math.round((n * scale) / 2));
  return ['videoscale', `video/x-raw,width=${even(size.width)},height=${even(size.height)}`];
}

function videoSource(source: SourceSpec, size: { width: number; height: number; framerate: number; showPointer?: boolean }): string[] {
  const rate = `video/x-raw,framerate=${size.framerate}/1`;
  if (source.kind === 'test') {
    return [`videotestsrc is-live=true pattern=smpte`, `${rate},width=${size.width},height=${size.height}`];
  }
  if (!DISPLAY_NAME.test(source.display)) throw new Error(`not an X display name: ${JSON.stringify(source.display)}`);
  // use-damage=false grabs the whole screen each frame (its capture cost: docs/architecture.md, "Encoders and capture").
  // videorate only drops: in its default mode it holds each frame until the next one arrives to decide
  // whether to duplicate it, a whole frame period of latency (37 → 4 ms capture at 30 fps, BENCHMARKS.md §2).
  // show-pointer is read at every frame, so the worker may switch it while playing (pointer-policy.ts).
  return [
    `ximagesrc name=${CAPTURE} display-name=${source.display} use-damage=false show-pointer=${size.showPointer !== false}`,
    'videorate drop-only=true',
    rate,
  ];
}
