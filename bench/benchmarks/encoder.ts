/**
 * Encoder CPU for desktop content: the virtual desktop (Xvfb) at 720p and 1080p, 30 fps, running an
 * xterm that keeps printing (text scrolling ~10 screens a second), watched by one werift viewer per codec.
 * The two encoder workers (H.264 and VP8) run side by side; each is measured apart by /proc. Then a bare
 * gst-launch of the same capture (ximagesrc ! videorate ! videoconvert ! fakesink) on the same display
 * gives the capture + colour-conversion share.
 */
import { spawn } from 'node:child_process';
import { section, type BenchContext, type SectionResult } from '../lib/context.js';
import { Child } from '../lib/child.js';
import { ROOT } from '../lib/paths.js';
import { CpuSampler, commandLine, workerPids } from '../lib/proc.js';
import { health, startBenchServer } from '../lib/server.js';
import { num, sleep, type Summary } from '../lib/stats.js';
import { barChart } from '../lib/svg.js';

/** Scrolling terminal text: what a desktop stream mostly carries, and hard enough to encode. */
export const BUSY_XTERM = `xterm -bg black -fg gray90 -e sh -c 'while :; do date; ls -l --color=always /usr/share | head -60; sleep 0.1; done'`;

interface EncoderFigure {
  resolution: string;
  codec: string;
  cpu: number;
  spread: Summary;
  rssMiB: number;
  kbps: number;
  fps: number;
}

export async function runEncoder(ctx: BenchContext): Promise<SectionResult> {
  const started = Date.now();
  const resolutions = ctx.quick ? ['1280x720'] : ['1280x720', '1920x1080'];
  const measureMs = ctx.quick ? 2000 : 10_000;
  const figures: EncoderFigure[] = [];
  const capture: { resolution: string; cpu: number }[] = [];
  for (const resolution of resolutions) {
    ctx.log(`encoder CPU at ${resolution}`);
    const server = await startBenchServer(['--source', 'virtual', '--resolution', resolution, '--framerate', '30', '--bitrate', '2500', '--app', BUSY_XTERM, '--max-peers-per-ip', '100']);
    const viewers: Child[] = [];
    try {
      for (const codec of ['H264', 'VP8']) {
        const v = await Child.start(`${ROOT}dist/bench/fanout-viewers.js`, [server.wsUrl, codec]);
        viewers.push(v);
        await v.request({ cmd: 'add', n: 1 }, 'added', 60_000);
      }
      await sleep(ctx.quick ? 1000 : 3000);
      await Promise.all(viewers.map((v) => v.request({ cmd: 'start' }, 'started')));
      const byCodec = (needle: string) => () => workerPids(server.pid).filter((p) => commandLine(p).includes(needle));
      const sampler = new CpuSampler({ H264: byCodec('x264enc'), VP8: byCodec('vp8enc'), server: () => [server.pid] }).start();
      await sleep(measureMs);
      const win = sampler.stop();
      const reports = await Promise.all(viewers.map((v) => v.request({ cmd: 'report' }, 'report')));
      ['H264', 'VP8'].forEach((codec, i) => {
        const r = (reports[i]!.viewers as { bytes: number; frames: number }[])[0];
        figures.push({
          resolution,
          codec,
          cpu: win.groups[codec]!.cpuPercent,
          spread: win.groups[codec]!.perInterval,
          rssMiB: win.groups[codec]!.rssBytes / 2 ** 20,
          kbps: r ? (r.bytes * 8) / 1000 / win.seconds : NaN,
          fps: r ? r.frames / win.seconds : NaN,
        });
      });
      // Capture alone, on the same display, the same content.
      const display = (await health(server)).display as string | undefined;
      if (display) {
        const gst = spawn(
          'gst-launch-1.0',
          ['-q', 'ximagesrc', `display-name=${display}`, 'use-damage=false', 'show-pointer=true', '!', 'videorate', '!', 'video/x-raw,framerate=30/1', '!', 'videoconvert', '!', 'video/x-raw,format=I420', '!', 'fakesink', 'sync=false'],
          { stdio: 'ignore' },
        );
        await sleep(1000);
        const s = new CpuSampler({ gst: () => (gst.pid ? [gst.pid] : []) }).start();
        await sleep(ctx.quick ? 1000 : 5000);
        capture.push({ resolution, cpu: s.stop().groups.gst!.cpuPercent });
        gst.kill('SIGTERM');
      }
    } finally {
      await Promise.all(viewers.map((v) => v.stop()));
      await server.stop();
    }
  }
  const rows = figures.map((f) => {
    const cap = capture.find((c) => c.resolution === f.resolution)?.cpu;
    return `| ${f.resolution.replace('x', '×')} | ${f.codec} | **${num(f.cpu)}** (${num(f.spread.p10)}–${num(f.spread.p90)}) | ${num(cap)} | ${num(cap !== undefined ? f.cpu - cap : NaN)} | ${num(f.kbps, 0)} | ${num(f.fps)} | ${num(f.rssMiB, 0)} |`;
  });
  const markdown = [
    'Virtual desktop at 30 fps, `--bitrate 2500`, content: a full-screen xterm printing a directory listing ten times a second',
    '(`' + BUSY_XTERM.replace(/\|/g, '\\|') + '`). One werift viewer per codec, both encoders running at once, each worker measured apart.',
    'The worker is the whole pipeline process: ximagesrc capture, videorate, videoconvert (BGRx → I420), the encoder, the payloader and Node.',
    '"capture only" is a separate gst-launch of the same capture and conversion into fakesink, measured right after on the same content.',
    '',
    '| resolution | codec | worker CPU % of one core (p10–p90) | capture + convert only | ≈ encoder + payloader | kbit/s sent | fps received | worker RSS MiB |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  const chart = barChart({
    title: 'Encoder worker CPU, desktop content at 30 fps',
    yLabel: '% of one core',
    categories: resolutions.map((r) => r.replace('x', '×')),
    series: [
      { label: 'H.264 (x264)', values: resolutions.map((r) => figures.find((f) => f.resolution === r && f.codec === 'H264')?.cpu ?? null) },
      { label: 'VP8 (libvpx)', values: resolutions.map((r) => figures.find((f) => f.resolution === r && f.codec === 'VP8')?.cpu ?? null) },
      { label: 'capture + convert only', values: resolutions.map((r) => capture.find((c) => c.resolution === r)?.cpu ?? null) },
    ],
  });
  return section(ctx, started, {
    name: 'encoder',
    title: 'Encoder CPU, desktop content',
    markdown,
    charts: [{ file: 'encoder-cpu.svg', svg: chart, alt: 'encoder worker CPU by resolution and codec' }],
    figures: { encoders: figures, capture },
    targets: [],
  });
}
