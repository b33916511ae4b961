/**
 * The benchmark harness must not rot: every benchmark runs in quick mode (tiny sizes; about 4 min in all on
 * the shared 2-core machine, a minute or two more as root, with networks) and must produce numbers and
 * charts. No timing is asserted — figures belong in BENCHMARKS.md, not in tests.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../../bench/run.js', import.meta.url));

interface QuickResults {
  results: { name: string; figures: Record<string, any>; charts: { file: string; bytes: number }[]; markdown: string; targets: unknown[] }[];
  failures: string[];
}

const finite = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);

test('every benchmark runs in quick mode and produces figures', { timeout: 570_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'streamgate-bench-smoke-'));
  try {
    const json = join(dir, 'quick.json');
    const { stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(process.execPath, [RUN, '--quick', '--json', json], { timeout: 520_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err && !(err as { code?: unknown }).code) reject(err);
        else resolve({ stdout, stderr });
      });
    });
    // No file: the run died (its watchdog, a crash) before writing it; its stderr says where.
    const text = await readFile(json, 'utf8').catch(() => assert.fail(`the quick run wrote no results\n--- stderr ---\n${stderr.slice(-4000)}`));
    const out = JSON.parse(text) as QuickResults;
    assert.deepEqual(out.failures, [], `benchmarks failed:\n${out.failures.join('\n')}\n--- stderr ---\n${stderr.slice(-4000)}`);
    const byName = new Map(out.results.map((r) => [r.name, r]));
    // networks builds network namespaces: it runs as root and is skipped (with its reason on stderr) otherwise.
    const root = process.getuid?.() === 0;
    const expected = ['audience', 'cluster', 'encoder', 'fanout', 'flood', 'glass', 'injection', 'pageopen', 'photon', 'signaling', 'soak', 'ttff', ...(root ? ['networks'] : [])];
    assert.deepEqual([...byName.keys()].sort(), expected.sort());
    if (!root) assert.match(stderr, /networks skipped: needs root/);
    for (const r of out.results) {
      assert.ok(r.markdown.includes('|'), `${r.name}: a table`);
      for (const c of r.charts) assert.ok(c.bytes > 200, `${r.name}: chart ${c.file} drawn`);
    }
    const f = (name: string): Record<string, any> => byName.get(name)!.figures;
    assert.ok(f('ttff').warm.H264.firstFrame.n > 0 && finite(f('ttff').warm.H264.firstFrame.p50), 'ttff: H264 joins timed');
    assert.ok(f('ttff').warm.VP8.firstFrame.n > 0 && finite(f('ttff').warm.VP8.firstFrame.p50), 'ttff: VP8 joins timed');
    const opens = (source: string, mode: string): any => f('pageopen').runs.find((r: any) => r.source === source && r.mode === mode);
    for (const [source, mode] of [['virtual', 'warm'], ['test', 'warm'], ['virtual', 'cold']] as const) {
      assert.ok(opens(source, mode)?.n > 0 && finite(opens(source, mode).total.p50), `pageopen: ${source} ${mode} opens timed`);
    }
    assert.ok(finite(opens('virtual', 'warm').steps.offer) && finite(opens('virtual', 'warm').steps.dtlsConnected), 'pageopen: the steps timed');
    assert.ok(f('glass').runs[0].glass.n > 0 && finite(f('glass').runs[0].glass.p50), 'glass: clock frames read back');
    assert.ok(f('photon').all.n > 0 && finite(f('photon').all.p50), 'photon: clicks seen on screen');
    assert.ok(f('fanout').steps.length >= 2 && f('fanout').steps.every((s: any) => finite(s.serverCpu) && s.fps.n > 0), 'fanout: steps measured');
    assert.ok(['local', 'janus'].every((mode) => f('audience')[mode].length === 1 && f('audience')[mode][0].fps.n > 0), 'audience: local and Janus measured');
    assert.ok(finite(f('audience').janus[0].extraCpu.janus), "audience: Janus's CPU measured");
    assert.ok(f('signaling').runs.length === 2 && f('signaling').runs.every((r: any) => r.rtt.n > 0 && finite(r.cpu)), 'signaling: both servers measured');
    assert.ok(f('signaling').sweepProbes.every((p: any) => p.rtt.n > 0), 'signaling: event-loop probe measured');
    assert.ok(f('signaling').profile?.top.length > 0, 'signaling: the CPU profile was read');
    assert.ok(f('encoder').encoders.length === 2 && f('encoder').encoders.every((e: any) => finite(e.cpu)), 'encoder: both codecs measured');
    assert.ok(f('injection').move.n > 0 && f('injection').endToEnd.seen > 0, 'injection: events observed');
    assert.ok(f('flood').windows.length === 3 && f('flood').windows[0].rtt.n > 0, 'flood: idle, flood and bare-flood windows measured');
    assert.ok(f('flood').windows.slice(1).every((w: any) => w.flood.bytesSent > 0 && finite(w.serverCpu)), 'flood: the flood ran against both servers');
    assert.ok(f('soak').samples.length >= 5 && f('soak').samples.every((s: any) => finite(s.rssMiB) && finite(s.fds)), 'soak: sampled throughout');
    assert.ok(finite(f('soak').slopesPerMinute.rssMiB), 'soak: slopes stated');
    assert.ok(f('cluster').relay.relayed.n > 0 && finite(f('cluster').relay.ratio), 'cluster: direct and relayed round trips measured');
    if (root) {
      const runs = f('networks').runs as any[];
      assert.deepEqual(runs.map((r) => `${r.profile} ${r.mode}`), ['lan fixed', 'lan adaptive', 'mobile fixed', 'mobile adaptive'], 'networks: both bitrates on both profiles');
      assert.ok(runs.every((r) => finite(r.kbps) && finite(r.decodedFps)), 'networks: counters read');
      assert.ok(runs.filter((r) => r.profile === 'lan').every((r) => r.glass.n > 0), 'networks: the clock read back on lan');
    }
    assert.ok(f('cluster').desktops.length === 2 && f('cluster').desktops.every((s: any) => finite(s.cpuPerDesktop) && s.rssPerDesktopMiB > 0), 'cluster: desktops per node measured');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
