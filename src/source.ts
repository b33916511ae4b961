import type { Config } from './config/options.js';
import { ScreenResizer, VirtualDesktop, type ScreenSize } from './desktop/index.js';
import { GstreamerMediaService } from './media/gstreamer-media-service.js';
import { udpPortShortfall } from './media/ice-config.js';
import type { PulseCapture } from './audio/pulse-capture.js';
import type { MediaService, SourceSpec } from './media/types.js';
import type { MediaFigures } from './media/metrics.js';
import { X11InputInjector } from './input/index.js';
import type { InputInjector } from './input/types.js';
import { logger } from './log.js';

/** What `--source` resolves to: the media service, the input injector where there is a desktop, and how to stop them. */
export interface RunningSource {
  name: string;
  media: MediaService & MediaFigures;
  input: InputInjector | null;
  /** The virtual desktop's screen: its size, and resizing it under `--resize controller`; null for other sources. */
  screen: DesktopScreen | null;
  /** The X display captured now (a restarted Xvfb may have another number); null for the test pattern. */
  display(): string | null;
  health(): Record<string, unknown>;
  stop(): Promise<void>;
}

/** The largest `--resize controller` makes the virtual desktop unless --max-resolution says otherwise. */
const DEFAULT_MAX_RESOLUTION = { width: 2560, height: 1440 };

export interface DesktopScreen {
  readonly size: ScreenSize;
  readonly resizable: boolean;
  resize(width: number, height: number): Promise<ScreenSize>;
  on(event: 'resize', listener: (size: ScreenSize) => void): unknown;
}

/**
 * Brings the source up bottom-up: the virtual desktop (Xvfb + app) when asked for, then the media service
 * capturing it (or the test pattern), then X input into the same display.
 */
export async function startSource(config: Config, log = logger('source')): Promise<RunningSource> {
  const { width, height } = config.resolution;
  let desktop: VirtualDesktop | null = null;
  let display: string | null = null;
  let audio: PulseCapture | null = null;
  if (config.source === 'virtual') {
    const max = config.maxResolution ?? DEFAULT_MAX_RESOLUTION;
    // Xvfb's framebuffer is allocated at its largest once; RandR then resizes within it.
    const maxSize = config.resize === 'controller' ? { width: Math.max(max.width, width), height: Math.max(max.height, height) } : undefined;
    desktop = new VirtualDesktop({ width, height, app: config.app, ...(config.appUser ? { appUser: config.appUser } : {}), ...(maxSize ? { maxSize } : {}) });
    await desktop.start();
    display = desktop.display;
    audio = desktop.audio;
  } else if (config.source === 'x11') {
    display = config.display ?? null;
    // What the user hears on that desktop: the default sink's monitor.
    if (config.audioServer) audio = { server: config.audioServer, device: '@DEFAULT_MONITOR@' };
  }
  const spec: SourceSpec = display ? { kind: 'x11', display, ...(audio ? { audio } : {}) } : { kind: 'test' };
  const stops: (() => Promise<void>)[] = desktop ? [() => desktop.stop()] : [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => log.error({ err }, 'error while stopping the source'));
  };
  try {
    const media = await GstreamerMediaService.create({
      source: spec,
      framerate: config.framerate,
      bitrate: config.bitrate,
      adaptiveBitrate: config.adaptiveBitrate !== 'off',
      rungEncoders: config.adaptiveBitrate === 'ladder',
      width,
      height,
      // werift leaves loopback out unless named; other interfaces it gathers by itself.
      iceAddresses: ['127.0.0.1'],
      iceServers: config.iceServers,
      turnRest: config.turnRest,
      publicAddress: config.publicIp,
      udpPortRange: config.udpPorts,
    }, { lingerMs: config.idleStop });
    stops.push(() => media.stop());
    const shortfall = udpPortShortfall(media.settings, config.maxPeers);
    if (shortfall) log.warn(shortfall);
    // The desktop this server owns is what a viewer comes for, so its encoders run from the start.
    if (config.keepWarm ?? config.source === 'virtual') media.keepWarm();
    // Xvfb restarted under another number (its old one was taken): capture the new one.
    desktop?.on('display-ready', (ready) => {
      if (spec.kind === 'x11' && ready !== display) {
        display = ready;
        media.setSource({ ...spec, display: ready });
      }
    });
    let screen: DesktopScreen | null = null;
    if (desktop) {
      const vd = desktop;
      const resizer = config.resize === 'controller' ? new ScreenResizer(() => vd.readyDisplay ?? display ?? '') : null;
      // ximagesrc keeps the size it started with: new encoders take over to capture the whole new screen.
      vd.on('resize', (size) => media.sourceResized(size));
      screen = {
        get size() {
          return vd.size;
        },
        resizable: resizer !== null,
        resize: (w, h) => (resizer ? resizer.resize(w, h) : Promise.reject(new Error('--resize is off'))),
        on: (event, listener) => vd.on(event, listener),
      };
    }
    let input: InputInjector | null = null;
    if (display && config.input !== 'none') {
      const fixed = display;
      // While a virtual desktop restarts Xvfb there is no display (null); the injector waits and retries.
      const injector = await X11InputInjector.create({ display: () => (desktop ? desktop.readyDisplay : fixed) });
      desktop?.on('display-ready', () => injector.reconnect());
      stops.push(() => injector.close());
      input = injector;
    }
    return {
      name: config.source,
      media,
      input,
      screen,
      display: () => display,
      health: () => ({ source: config.source, ...(display ? { display, audio: audio ? 'pulseaudio' : 'silence' } : {}), codecs: media.codecs }),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
