/**
 * Real headless Firefox (Debian's /usr/bin/firefox-esr driven by puppeteer-core over WebDriver BiDi)
 * for the tests that must hold in Firefox as in Chromium. Each launch gets a fresh temporary profile
 * with prefs that keep Firefox off the network (this machine and CI have no internet), so it behaves as
 * a fresh offline install: in particular it never downloads the OpenH264 plugin, so WebRTC has no H.264.
 * Pages opened here record their RTCPeerConnections, so the browser's own getStats can be read from any
 * page (the viewer, the SDK, a bare peer) without the page's help.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { InboundRtp } from './chromium.js';

export const FIREFOX_PATH = '/usr/bin/firefox-esr';

/**
 * Prefs on top of puppeteer's own test profile (which already turns off safebrowsing lists, search and
 * extension updates, and points remote settings at a dummy). Each group says why it is needed here.
 */
export const FIREFOX_PREFS: Record<string, string | number | boolean> = {
  // No updates of the browser or its system add-ons.
  'app.update.auto': false,
  'app.update.enabled': false,
  'extensions.systemAddon.update.enabled': false,
  'extensions.systemAddon.update.url': '',
  // No telemetry, usage pings or crash-report uploads.
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.archive.enabled': false,
  'toolkit.telemetry.server': '',
  'toolkit.telemetry.newProfilePing.enabled': false,
  'toolkit.telemetry.shutdownPingSender.enabled': false,
  'toolkit.telemetry.firstShutdownPing.enabled': false,
  'toolkit.telemetry.updatePing.enabled': false,
  'toolkit.telemetry.bhrPing.enabled': false,
  'datareporting.usage.uploadEnabled': false,
  'browser.crashReports.unsubmittedCheck.enabled': false,
  // No captive-portal or connectivity probes (they would flip Firefox into "offline" on this machine).
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'captivedetect.canonicalURL': '',
  // No safebrowsing list downloads.
  'browser.safebrowsing.update.enabled': false,
  'browser.safebrowsing.downloads.remote.enabled': false,
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'browser.safebrowsing.provider.google4.updateURL': '',
  'browser.safebrowsing.provider.google.updateURL': '',
  // No Normandy or Nimbus studies (remote settings: see MOZ_DISABLE_NONLOCAL_CONNECTIONS below).
  'app.normandy.enabled': false,
  'app.normandy.api_url': '',
  'app.shield.optoutstudies.enabled': false,
  // No Gecko Media Plugins (OpenH264, Widevine), neither downloaded nor used: WebRTC has no H.264, as on a
  // fresh offline install and as Debian's own /etc/firefox-esr/firefox-esr.js has it anyway.
  'media.gmp-gmpopenh264.enabled': false,
  'media.gmp-manager.updateEnabled': false,
  'media.gmp-manager.url': 'data:text/plain,',
  'media.gmp-manager.url.override': 'data:text/plain,',
  'media.gmp-gmpopenh264.autoupdate': false,
  'media.gmp-widevinecdm.autoupdate': false,
  'media.gmp-widevinecdm.enabled': false,
  'media.eme.enabled': false,
  // No DNS-over-HTTPS, push service, geolocation/region lookups or link prefetching.
  'network.trr.mode': 5,
  'dom.push.connection.enabled': false,
  'dom.push.serverURL': '',
  'browser.region.network.url': '',
  'browser.region.update.enabled': false,
  'geo.provider.network.url': '',
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  // No first-run pages, account, ML-model or translation downloads.
  'browser.aboutwelcome.enabled': false,
  'identity.fxaccounts.enabled': false,
  'browser.ml.enable': false,
  'browser.translations.enable': false,
  'browser.newtabpage.activity-stream.feeds.section.topstories': false,
  'browser.topsites.contile.enabled': false,
  'browser.backup.enabled': false,
  'browser.backup.scheduled.enabled': false,
  // Media plays without a user gesture; WebRTC works on loopback, with real host addresses, without getUserMedia.
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.navigator.permission.disabled': true,
};

/** Kills the process group puppeteer started (the browser and its content processes) and removes the dir. */
function killAndRemove(pid: number | undefined, dir: string): void {
  if (pid !== undefined) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Pending cleanups for the process-exit hook: a test file that dies mid-way still leaves nothing behind. */
const pendingCleanups = new Set<() => void>();
process.once('exit', () => {
  for (const cleanup of pendingCleanups) cleanup();
});

export interface FirefoxBrowser {
  readonly browser: Browser;
  /** The browser process (leader of its own process group). */
  readonly pid: number;
  /** Temporary dir holding the profile and the HOME/XDG dirs; removed by close(). */
  readonly dir: string;
  /** How long launching took, ms (for the report; not asserted). */
  readonly launchMs: number;
  /** Firefox's last stderr lines since launch, for failure messages (crashes, sandbox and network errors). */
  stderrTail(): string;
  /** A new tab whose pages record their RTCPeerConnections (read by inboundRtp, firstDecodedFrameMs, sessionDescriptions). */
  newPage(): Promise<Page>;
  /** Closes the browser (kills it if it does not exit) and removes the profile. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * A page of either driver: puppeteer's (Firefox here) and playwright's (test/helpers/chromium.ts) both fit,
 * so the readers below serve a test written once for both browsers.
 */
export interface ScriptablePage {
  evaluate<T>(pageFunction: () => T | Promise<T>): Promise<T>;
}

/**
 * Page-side, before any of the page's scripts: keep every RTCPeerConnection the page creates, and note
 * when the first video frame with a size was decoded (performance.now(), ms since navigation start).
 * Firefox pages get it from newPage(); a Chromium page from `page.addInitScript(recordPeerConnections)`.
 */
export function recordPeerConnections(): void {
  const w = window as unknown as RecordingWindow;
  const Native = window.RTCPeerConnection;
  w.__peers = [];
  w.__firstFrameMs = null;
  window.RTCPeerConnection = class extends Native {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      w.__peers.push(this);
      const watch = async (): Promise<void> => {
        while (w.__firstFrameMs === null && this.connectionState !== 'closed') {
          const report = await this.getStats();
          report.forEach((entry: Record<string, unknown>) => {
            if (entry.type === 'inbound-rtp' && entry.kind === 'video' && (entry.framesDecoded as number) > 0 && (entry.frameWidth as number) > 0) {
              w.__firstFrameMs ??= performance.now();
            }
          });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      void watch();
    }
  };
}

interface RecordingWindow {
  __peers: RTCPeerConnection[];
  __firstFrameMs: number | null;
}

/**
 * Starts headless Firefox with a fresh profile in a new temp dir. Pair with `close()` in an `after` hook;
 * if the test process dies first, its exit hook kills the browser's process group and removes the dir.
 */
export async function launchFirefox(): Promise<FirefoxBrowser> {
  const dir = await mkdtemp(join(tmpdir(), 'streamgate-firefox-'));
  const started = performance.now();
  let pid: number | undefined;
  const cleanup = (): void => killAndRemove(pid, dir);
  pendingCleanups.add(cleanup);
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX_PATH,
      headless: true,
      userDataDir: join(dir, 'profile'),
      extraPrefsFirefox: FIREFOX_PREFS,
      // Firefox writes caches and its crash-reporter state under HOME/XDG dirs even with --profile: keep
      // them in the temp dir so nothing outlives the test. Run as root (as CI does), Firefox also refuses
      // to start when HOME or XAUTHORITY belongs to another user ("Running Firefox as root in a regular
      // user's session is not supported"), e.g. under sudo. Headless needs no X or Wayland display, and
      // without one it stays off the Xvfb other tests may run.
      env: {
        ...process.env,
        XAUTHORITY: undefined,
        DISPLAY: undefined,
        WAYLAND_DISPLAY: undefined,
        HOME: dir,
        XDG_CONFIG_HOME: join(dir, 'config'),
        XDG_CACHE_HOME: join(dir, 'cache'),
        XDG_DATA_HOME: join(dir, 'data'),
        XDG_STATE_HOME: join(dir, 'state'),
        // No crash reporter (and its helper process) writing minidumps under HOME.
        MOZ_CRASHREPORTER_DISABLE: '1',
        // Release builds ignore the remote-settings server pref unless this is set, and then reach out to
        // firefox.settings.services.mozilla.com at startup; with it the dummy server puppeteer sets is used
        // and remote settings are skipped. It also turns any other non-local connection into a crash with
        // "Non-local network connections are disabled" on stderr (see stderrTail): a loud failure, never a
        // silent download.
        MOZ_DISABLE_NONLOCAL_CONNECTIONS: '1',
      },
      defaultViewport: { width: 1280, height: 800 },
      // Under load (two cores shared by many test processes) startup can take well over 15 s.
      timeout: 90_000,
    });
  } catch (error) {
    cleanup();
    pendingCleanups.delete(cleanup);
    throw new Error(`launching ${FIREFOX_PATH} failed: ${(error as Error).message}`, { cause: error });
  }
  const child = browser.process();
  pid = child?.pid;
  if (!child || pid === undefined) {
    cleanup();
    pendingCleanups.delete(cleanup);
    throw new Error('puppeteer launched Firefox but reports no process');
  }
  const browserPid = pid;
  const stderr: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr.push(...text.split('\n').filter(Boolean));
    stderr.splice(0, stderr.length - 50);
  });
  const launchMs = Math.round(performance.now() - started);
  let closed = false;
  return {
    browser,
    pid: browserPid,
    dir,
    launchMs,
    stderrTail: () => stderr.join('\n'),
    async newPage() {
      const page = await browser.newPage();
      await page.evaluateOnNewDocument(recordPeerConnections);
      return page;
    },
    async close() {
      if (closed) return;
      closed = true;
      // A browser that does not quit within 10 s is killed below (its whole process group).
      let timer: NodeJS.Timeout | undefined;
      const patience = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 10_000);
      });
      await Promise.race([browser.close().catch(() => undefined), patience]);
      clearTimeout(timer);
      cleanup();
      pendingCleanups.delete(cleanup);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The `inbound-rtp` entries of a getStats report, with their codec's mimeType, from the report's plain
 * entries (`[...report.values()]`, which any driver can bring out of any browser). Fields a browser
 * lacks or reports with another type are left out, not guessed.
 */
export function toInboundRtp(entries: readonly Record<string, unknown>[]): InboundRtp[] {
  const count = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
  const mimeTypes = new Map(entries.filter((e) => e.type === 'codec').map((e) => [e.id, e.mimeType]));
  const inbound: InboundRtp[] = [];
  for (const e of entries) {
    if (e.type !== 'inbound-rtp' || (e.kind !== 'video' && e.kind !== 'audio')) continue;
    const codec = mimeTypes.get(e.codecId);
    inbound.push({
      kind: e.kind,
      packetsReceived: count(e.packetsReceived) ?? 0,
      bytesReceived: count(e.bytesReceived) ?? 0,
      framesDecoded: count(e.framesDecoded),
      keyFramesDecoded: count(e.keyFramesDecoded),
      frameWidth: count(e.frameWidth),
      frameHeight: count(e.frameHeight),
      framesPerSecond: count(e.framesPerSecond),
      codec: typeof codec === 'string' ? codec : undefined,
    });
  }
  return inbound;
}

/** inbound-rtp of the page's latest peer connection (the SDK replaces it after a failure or a reconnect). */
export async function inboundRtp(page: ScriptablePage): Promise<InboundRtp[]> {
  const entries = await page.evaluate(async () => {
    const pc = (window as unknown as RecordingWindow).__peers.at(-1);
    return pc ? ([...(await pc.getStats()).values()] as Record<string, unknown>[]) : [];
  });
  return toInboundRtp(entries);
}

/** Polls inbound-rtp until `done` holds for it; returns the last sample (the caller asserts on it). */
export async function waitForInbound(page: ScriptablePage, done: (inbound: InboundRtp[]) => boolean, timeoutMs = 15_000): Promise<InboundRtp[]> {
  const deadline = Date.now() + timeoutMs;
  let inbound = await inboundRtp(page);
  while (!done(inbound) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    inbound = await inboundRtp(page);
  }
  return inbound;
}

/** A video inbound-rtp that has decoded at least one frame and knows its size. */
export const decodedVideo = (inbound: InboundRtp[]): InboundRtp | undefined =>
  inbound.find((entry) => entry.kind === 'video' && (entry.framesDecoded ?? 0) > 0 && (entry.frameWidth ?? 0) > 0);

/** ms from navigation start to the first decoded video frame with a size, measured in the page; null before. */
export function firstDecodedFrameMs(page: ScriptablePage): Promise<number | null> {
  return page.evaluate(() => (window as unknown as RecordingWindow).__firstFrameMs);
}

/** The SDPs of the page's latest peer connection (for a page answering the server: remote = offer, local = answer). */
export function sessionDescriptions(page: ScriptablePage): Promise<{ local: string | null; remote: string | null }> {
  return page.evaluate(() => {
    const pc = (window as unknown as RecordingWindow).__peers.at(-1);
    return { local: pc?.localDescription?.sdp ?? null, remote: pc?.remoteDescription?.sdp ?? null };
  });
}
