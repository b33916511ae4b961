import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigFields } from '../../src/config/options.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The server's command line, run to its end (a bad one ends before anything starts). */
function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

/** A setting's flag: its key in kebab case, except where one flag given many times fills a list. */
const REPEATED_FLAG: Record<string, string> = { desktops: 'desktop' };
const kebab = (key: string): string => REPEATED_FLAG[key] ?? key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The --help entry of each option: from its flag to the next option (commander wraps long ones). */
function helpEntries(help: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const entry of help.split(/\n(?=  -)/)) {
    const flag = /--([\w-]+)/.exec(entry)?.[1];
    if (flag) entries.set(flag, entry.replace(/\s+/g, ' '));
  }
  return entries;
}

test('--help lists every setting of the schema as a flag, each with its default, and exits 0', async () => {
  const { code, stdout } = await run(['--help']);
  assert.equal(code, 0);
  const entries = helpEntries(stdout);
  for (const key of Object.keys(ConfigFields.shape)) {
    const entry = entries.get(kebab(key));
    assert.ok(entry, `--${kebab(key)} (setting ${key}) is missing from --help:\n${stdout}`);
    assert.match(entry, /\(default: [^)]+\)/, `--${kebab(key)} shows its default`);
  }
  assert.match(entries.get('port')!, /\(default: 8080\)/);
  assert.match(entries.get('resolution')!, /\(default: 1280x720\)/);
  assert.match(entries.get('log-format')!, /auto.*pretty.*json.*\(default: auto\)/);
});

/** A refused command line: exit code 2 and one line on stderr that names what to fix, no stack trace. */
async function refused(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { code, stdout, stderr } = await run(args, env);
  assert.equal(code, 2, `exit code for ${args.join(' ')}; stderr:\n${stderr}`);
  assert.equal(stdout, '');
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line:\n${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  assert.match(lines[0]!, /^streamgate: .*; see --help$/);
  return lines[0]!;
}

test('an unknown flag is named, with the likely one meant, in one line; exit 2', async () => {
  const line = await refused(['--sorce', 'test']);
  assert.match(line, /unknown flag --sorce \(did you mean --source\?\)/);
  assert.match(await refused(['--port']), /--port needs a value/);
  assert.match(await refused(['test']), /unexpected argument "test"/);
});

test('a bad value names the flag, where it came from, what is accepted and what was given; exit 2', async () => {
  assert.match(await refused(['--source', 'vritual']), /--source \(from command line\): expected one of virtual\|test\|x11, got "vritual"/);
  assert.match(await refused(['--port', '70000']), /--port \(from command line\): expected a whole number from 0 to 65535, got "70000"/);
  assert.match(await refused(['--log-format', 'xml']), /--log-format \(from command line\): expected one of auto\|pretty\|json/);
  assert.match(await refused([], { STREAMGATE_INPUT: 'everyone' }), /--input \(from \$STREAMGATE_INPUT\): expected one of all\|first\|none, got "everyone"/);
});

test('a secret given badly is not repeated in the message', async () => {
  const line = await refused(['--auth-token', 'tooShortSecret']);
  assert.match(line, /--auth-token \(from command line\): use at least 16 characters/);
  assert.doesNotMatch(line, /tooShortSecret/);
});
