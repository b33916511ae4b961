import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { seedCode } from '../helpers/seed.js';

const run = promisify(execFile);
const HERE = fileURLToPath(new URL('../../../test/seed/', import.meta.url));
const GORILLA = '/usr/share/gocode/src/github.com/gorilla/websocket';

export type SeedResult = {
  welcomed: boolean;
  ponged: boolean;
  still_connected: boolean;
  errors: string[];
  offers: { type: string; sdp: string }[];
  stats: Record<string, any>[];
  log: string | string[];
  [key: string]: unknown;
};

/** Runs the seed's Python client unchanged on Debian's python3 (which has python3-websockets). */
export async function runPythonSeed(wsUrl: string): Promise<SeedResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sg-seed-py-'));
  try {
    const file = join(dir, 'seed_client.py');
    writeFileSync(file, seedCode('python'));
    const { stdout } = await run('/usr/bin/python3', [join(HERE, 'python-harness.py'), file, wsUrl], { timeout: 60_000 });
    return JSON.parse(stdout.trim().split('\n').pop()!) as SeedResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds and runs the seed's Go client unchanged, offline, against Debian's gorilla/websocket. */
export async function runGoSeed(wsUrl: string): Promise<SeedResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sg-seed-go-'));
  try {
    writeFileSync(join(dir, 'main.go'), seedCode('go'));
    writeFileSync(join(dir, 'harness_test.go'), readFileSync(join(HERE, 'go_harness_test.go')));
    writeFileSync(
      join(dir, 'go.mod'),
      `module seedclient\n\ngo 1.19\n\nrequire github.com/gorilla/websocket v1.5.0\n\nreplace github.com/gorilla/websocket => ${GORILLA}\n`,
    );
    const env = { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GO111MODULE: 'on', STREAMGATE_WS_URL: wsUrl };
    const { stdout } = await run('go', ['test', '-count=1', '-run', 'TestSeedGoClient', '-v', '.'], { cwd: dir, env, timeout: 180_000 });
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`the Go seed printed no result:\n${stdout}`);
    return JSON.parse(line.slice('RESULT '.length)) as SeedResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
