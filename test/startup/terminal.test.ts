import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { descendants, waitUntil } from '../helpers/processes.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * The server started the way a person starts it: on a terminal. `script` (util-linux) gives it a
 * pseudo-terminal for stdout and stderr alike and copies what appears there to its own stdout.
 */
class OnTerminal {
  readonly script: ChildProcess;
  private text = '';
  private readonly exited: Promise<void>;

  constructor(args: string[]) {
    const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
    const command = `exec ${[process.execPath, MAIN, '--host', '127.0.0.1', '--port', '0', '--source', 'test', ...args].map(quote).join(' ')}`;
    this.script = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.script.stdout!.on('data', (chunk: Buffer) => (this.text += chunk.toString()));
    this.exited = new Promise((resolve) => this.script.once('exit', () => resolve()));
  }

  /** What the terminal shows, without colours and carriage returns. */
  get output(): string {
    return this.text.replace(ANSI, '').replace(/\r/g, '');
  }

  async waitFor(what: RegExp): Promise<void> {
    await waitUntil(`the terminal shows ${what}`, () => what.test(this.output), 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; it shows:\n${this.output}`);
    });
  }

  /** Ends the server (and so `script`); whatever state the test left them in. */
  async stop(): Promise<void> {
    for (const child of descendants(this.script.pid!)) process.kill(child.pid, 'SIGTERM');
    const killer = setTimeout(() => {
      for (const child of descendants(this.script.pid!)) process.kill(child.pid, 'SIGKILL');
      this.script.kill('SIGKILL');
    }, 10_000);
    await this.exited;
    clearTimeout(killer);
  }
}

let terminal: OnTerminal | undefined;
afterEach(async () => {
  await terminal?.stop();
  terminal = undefined;
});

const LISTENING_JSON = /^\{.*"msg":"listening".*\}$/m;

test('on a terminal the log is lines for a person, and start-up says what is streamed, where to open it and that auth is off', async () => {
  terminal = new OnTerminal([]);
  await terminal.waitFor(/app: listening/);
  const output = terminal.output;
  const port = /Open the viewer at:\n\s+http:\/\/127\.0\.0\.1:(\d+)\//.exec(output)?.[1];
  assert.ok(port, `the URL to open:\n${output}`);
  assert.match(output, new RegExp(`streams a 1280x720 test pattern and tone on 127\\.0\\.0\\.1 port ${port}`));
  assert.match(output, /Auth: off\. Only this machine can connect/);
  assert.match(output, /^\[[\d:.]+\] INFO: app: listening \{.*"port":\d+/m, 'a pretty log line: time, level, module, message');
  assert.doesNotMatch(output, LISTENING_JSON, 'no JSON log lines');
});

test('on a terminal with --log-format json the log stays JSON lines (and nothing else is printed on loopback)', async () => {
  terminal = new OnTerminal(['--log-format', 'json']);
  await terminal.waitFor(LISTENING_JSON);
  const lines = terminal.output.split('\n').filter((line) => line.trim() !== '');
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `a JSON line: ${line}`);
});

test('with auth configured, the start-up notice on a terminal says auth is on and how', async () => {
  terminal = new OnTerminal(['--auth-token', 'a-secret-of-24-characters']);
  await terminal.waitFor(/app: listening/);
  assert.match(terminal.output, /Auth: on, with the --auth-token secret/);
  assert.doesNotMatch(terminal.output, /a-secret-of-24-characters/, 'the secret itself is not printed');
});
