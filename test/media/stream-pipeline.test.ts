/**
 * StreamPipeline with workers that misbehave in ways a real encoder rarely does on cue: a fork that fails,
 * and a worker that says nothing while RTP from another worker reaches its port. fork() starts
 * `process.execPath`, so swapping it for the duration of attach() puts another program in the worker's place.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { StreamSpec } from '../../src/media/pipeline-description.js';
import { startsPicture } from '../../src/media/rtp-inspect.js';
import { StreamPipeline, type StreamSubscriber } from '../../src/media/stream-pipeline.js';
import type { WorkerConfig } from '../../src/media/worker-protocol.js';
import { eventually } from './browser-session.js';
import { workerProcesses } from './media-fixture.js';

const SPEC: StreamSpec = { kind: 'video', codec: 'H264', source: { kind: 'test' }, width: 320, height: 180, framerate: 30, bitrateKbps: 500 };

/** Calls `start` (which forks synchronously) with `execPath` as the program fork() runs. */
function forkingWith<T>(execPath: string, start: () => T): T {
  const real = process.execPath;
  process.execPath = execPath;
  try {
    return start();
  } finally {
    process.execPath = real;
  }
}

function subscriber(): StreamSubscriber & { ssrcs: number[] } {
  const ssrcs: number[] = [];
  return { ssrcs, rtp: (_packet, header) => ssrcs.push(header.ssrc), down: () => undefined, up: () => undefined };
}

/** An H.264 IDR slice in one RTP packet. */
function rtpPacket(ssrc: number, seq: number): Buffer {
  const packet = Buffer.alloc(16);
  packet[0] = 0x80;
  packet[1] = 0x80 | 96;
  packet.writeUInt16BE(seq, 2);
  packet.writeUInt32BE(seq * 3000, 4);
  packet.writeUInt32BE(ssrc, 8);
  packet[12] = 0x65;
  return packet;
}

test('a fork that fails (no pid, "error" and never "exit") counts as the worker gone: the viewer is refused at once and the next start works', { timeout: 30_000 }, async (t) => {
  const pipeline = await StreamPipeline.open(SPEC, { lingerMs: 100, startTimeoutMs: 10_000, keyframeIntervalMs: 300 });
  t.after(() => pipeline.stop());
  const started = performance.now();
  const attaching = forkingWith('/nonexistent/node', () => pipeline.attach(subscriber()));
  await assert.rejects(attaching, { code: 'MEDIA_UNAVAILABLE', details: /could not be started: spawn \/nonexistent\/node ENOENT/ });
  assert.ok(performance.now() - started < 5000, 'refused when the fork failed, not at the start timeout');
  assert.equal(pipeline.stats().state, 'idle', 'nothing is left starting');
  const detach = await pipeline.attach(subscriber());
  assert.equal(pipeline.stats().state, 'running');
  detach();
});

test('RTP with another SSRC (a worker going away) neither marks a starting worker running nor reaches viewers', { timeout: 30_000 }, async (t) => {
  // A worker that never sends: it writes down the configuration it was given and sleeps.
  const dir = mkdtempSync(join(tmpdir(), 'streamgate-worker-'));
  const configFile = join(dir, 'config.json');
  const fakeWorker = join(dir, 'silent-worker');
  writeFileSync(fakeWorker, `#!/bin/sh\nfor arg; do config=$arg; done\nprintf '%s' "$config" > ${configFile}\nexec sleep 60\n`);
  chmodSync(fakeWorker, 0o755);
  const pipeline = await StreamPipeline.open(SPEC, { lingerMs: 100, startTimeoutMs: 20_000, keyframeIntervalMs: 300 });
  const sender = createSocket('udp4');
  t.after(async () => {
    sender.close();
    await pipeline.stop();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(workerProcesses(), []);
  });
  const viewer = subscriber();
  let attached = false;
  const attaching = forkingWith(fakeWorker, () => pipeline.attach(viewer)).then((detach) => {
    attached = true;
    return detach;
  });
  assert.ok(await eventually(() => existsSync(configFile) && readFileSync(configFile, 'utf8').endsWith('}'), 5000), 'the worker started');
  const { launch } = JSON.parse(readFileSync(configFile, 'utf8')) as WorkerConfig;
  const port = Number(/ port=(\d+)/.exec(launch)?.[1]);
  const ssrc = Number(/ ssrc=(\d+)/.exec(launch)?.[1]);
  const send = (packet: Buffer): Promise<void> => new Promise((resolve, reject) => sender.send(packet, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));

  for (let seq = 0; seq < 10; seq++) await send(rtpPacket(ssrc + 1, seq));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(pipeline.stats().state, 'starting');
  assert.equal(attached, false, 'the viewer still waits');
  assert.deepEqual(viewer.ssrcs, []);

  await send(rtpPacket(ssrc, 100));
  const detach = await attaching;
  assert.equal(pipeline.stats().state, 'running');
  assert.deepEqual(viewer.ssrcs, [ssrc]);
  detach();
});

test('a handover (the screen resized) switches every viewer to a new worker at its first keyframe, with no down, no up and no gap, then stops the old one', { timeout: 60_000 }, async (t) => {
  const pipeline = await StreamPipeline.open(SPEC, { lingerMs: 100, startTimeoutMs: 20_000, keyframeIntervalMs: 300 });
  t.after(async () => {
    await pipeline.stop();
    assert.deepEqual(workerProcesses(), []);
  });
  const events: string[] = [];
  const packets: { ssrc: number; at: number; startsPicture: boolean }[] = [];
  const detach = await pipeline.attach({
    rtp: (_packet, header) => packets.push({ ssrc: header.ssrc, at: performance.now(), startsPicture: startsPicture('H264', header.payload) }),
    down: (reason) => events.push(`down ${reason}`),
    up: () => events.push('up'),
  });
  t.after(detach);
  assert.ok(await eventually(() => pipeline.stats().width === 320, 10_000), 'the first worker sends 320x180');
  const oldPid = pipeline.stats().pid;
  const oldSsrc = packets.at(-1)?.ssrc;
  pipeline.handOver({ width: 480, height: 270 });
  assert.ok(await eventually(() => pipeline.stats().width === 480 && pipeline.stats().height === 270, 20_000), 'the new worker sends 480x270');
  assert.ok(await eventually(() => workerProcesses().length === 1, 5000), 'the old worker stopped');
  assert.notEqual(pipeline.stats().pid, oldPid);
  assert.equal(pipeline.stats().state, 'running');
  assert.deepEqual(events, [], 'the viewer heard of no down or up');
  const first = packets.findIndex((p) => p.ssrc !== oldSsrc);
  assert.ok(first > 0 && packets[first]?.startsPicture, 'the new SSRC starts with a keyframe');
  assert.ok(packets.slice(first).every((p) => p.ssrc === packets[first]?.ssrc), 'nothing of the old worker after the switch');
  // The videotestsrc worker sends 30 frames a second: a gap would be the new worker's whole start-up.
  const gap = (packets[first]?.at ?? 0) - (packets[first - 1]?.at ?? 0);
  assert.ok(gap < 200, `${Math.round(gap)} ms between the last old packet and the first new one`);
});

test('a handover whose new worker cannot start falls back to a restart: the viewer sees down, then up, and video again', { timeout: 60_000 }, async (t) => {
  const pipeline = await StreamPipeline.open(SPEC, { lingerMs: 100, startTimeoutMs: 20_000, keyframeIntervalMs: 300 });
  t.after(async () => {
    await pipeline.stop();
    assert.deepEqual(workerProcesses(), []);
  });
  const events: string[] = [];
  const detach = await pipeline.attach({ rtp: () => undefined, down: () => events.push('down'), up: () => events.push('up') });
  t.after(detach);
  forkingWith('/nonexistent/node', () => pipeline.handOver({ width: 480, height: 270 }));
  assert.ok(await eventually(() => events.join() === 'down,up', 20_000), `events: ${events.join()}`);
  assert.ok(await eventually(() => pipeline.stats().width === 480, 10_000), 'the restarted worker captures the new size');
});
