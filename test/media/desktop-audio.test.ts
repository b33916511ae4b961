import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { VirtualDesktop } from '../../src/desktop/index.js';
import type { BrowserPeer, InboundRtp } from '../helpers/chromium.js';
import { descendants, waitUntil } from '../helpers/processes.js';
import { eventually } from './browser-session.js';
import { MediaFixture, SETTINGS, workerProcesses } from './media-fixture.js';

/** The app plays a loud 1 kHz tone into whatever PulseAudio server PULSE_SERVER names (the desktop's own). */
const TONE_APP = 'exec gst-launch-1.0 -q audiotestsrc is-live=true wave=sine freq=1000 volume=0.5 ! pulsesink';
const AUDIO_ONLY = { video: false, audio: true, codecPreferences: ['H264'] };

const stops: (() => Promise<void>)[] = [];

after(async () => {
  for (const stop of stops.reverse()) await stop();
  assert.deepEqual(workerProcesses(), [], 'no pipeline worker outlives its service');
});

async function desktopWithAudio(app: string | null): Promise<{ desktop: VirtualDesktop; peer: BrowserPeer }> {
  const desktop = new VirtualDesktop({ width: 320, height: 240, app });
  await desktop.start();
  stops.push(() => desktop.stop());
  const audio = desktop.audio;
  assert.ok(audio, 'the desktop has its own PulseAudio server (pulseaudio is installed by the set-up)');
  const fixture = await MediaFixture.start({}, { ...SETTINGS, source: { kind: 'x11', display: desktop.display, audio } });
  stops.push(() => fixture.stop());
  const { peer } = await fixture.watch(AUDIO_ONLY);
  return { desktop, peer };
}

const packets = (inbound: InboundRtp[]): number => inbound.find((e) => e.kind === 'audio')?.packetsReceived ?? 0;

test('what an app plays on the virtual desktop reaches the browser as sound (the desktop PulseAudio monitor is streamed)', { timeout: 60_000 }, async () => {
  const { peer } = await desktopWithAudio(TONE_APP);
  await peer.waitForInbound((i) => packets(i) > 0);
  // A 0.5-amplitude sine has an RMS of 0.35; Opus and resampling keep it near that.
  assert.ok(await eventually(async () => (await peer.audioRms()) > 0.2), `the browser hears the tone: RMS ${await peer.audioRms()}`);
});

test('a desktop where nothing plays streams silence on its audio track, not a missing track', { timeout: 60_000 }, async () => {
  const { peer } = await desktopWithAudio(null);
  const inbound = await peer.waitForInbound((i) => packets(i) > 50);
  assert.ok(packets(inbound) > 50, 'audio packets arrive');
  await new Promise((resolve) => setTimeout(resolve, 300)); // the analyser fills with received samples
  const rms = await peer.audioRms();
  assert.ok(rms < 0.001, `and they carry silence: RMS ${rms}`);
});

test('a PulseAudio server that dies is restarted on the same socket, and the sound comes back to the browser', { timeout: 90_000 }, async () => {
  const { desktop, peer } = await desktopWithAudio(TONE_APP);
  await peer.waitForInbound((i) => packets(i) > 0);
  assert.ok(await eventually(async () => (await peer.audioRms()) > 0.2), 'the tone is heard before the fault');
  const server = desktop.audio?.server;
  const tether = desktop.audioPid;
  assert.ok(server && tether);
  const daemon = descendants(tether).find((p) => p.command.startsWith('pulseaudio'));
  assert.ok(daemon, 'the daemon runs under its tether');
  process.kill(daemon.pid, 'SIGKILL');
  await waitUntil('the daemon to be restarted', () => desktop.audioPid !== undefined && desktop.audioPid !== tether, 10_000);
  assert.equal(desktop.audio?.server, server, 'the server string does not change');
  assert.ok(existsSync(server.replace(/^unix:/, '')));
  // The app lost its server and is restarted by the desktop; the pipeline reconnects by its own restart.
  assert.ok(await eventually(async () => (await peer.audioRms()) < 0.01), 'the browser hears the gap');
  assert.ok(await eventually(async () => (await peer.audioRms()) > 0.2, 30_000), `the tone is heard again: RMS ${await peer.audioRms()}`);
});

test('stopping the desktop ends its PulseAudio server and removes its socket directory', { timeout: 30_000 }, async () => {
  const desktop = new VirtualDesktop({ width: 320, height: 240, app: null });
  await desktop.start();
  const server = desktop.audio?.server;
  const tether = desktop.audioPid;
  assert.ok(server && tether);
  const daemon = descendants(tether).find((p) => p.command.startsWith('pulseaudio'));
  assert.ok(daemon);
  await desktop.stop();
  assert.equal(desktop.audio, null);
  await waitUntil('the daemon to exit', () => !existsSync(`/proc/${daemon.pid}`), 5000);
  assert.equal(existsSync(server.replace(/^unix:/, '').replace(/\/native$/, '')), false);
});
