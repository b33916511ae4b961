import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { FileJail, FileTransferError, UPLOAD_TEMP_PREFIX, type FileErrorCode } from '../../src/files/index.js';

const run = promisify(execFile);

const refused = (code: FileErrorCode, message?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof FileTransferError, `a FileTransferError, not ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (message) assert.match(err.message, message);
  return true;
};

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('FileJail: uploads and downloads inside one folder, and nothing outside it', () => {
  let base: string;
  let folder: string;
  let outside: string;
  let jail: FileJail;

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'streamgate-files-'));
    folder = join(base, 'shared');
    outside = join(base, 'outside');
    await mkdir(folder);
    await mkdir(outside);
    await writeFile(join(outside, 'secret.txt'), 'not yours');
    jail = await FileJail.open(folder, { maxUploadBytes: 4 * 1024 * 1024 });
  });

  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  const leftovers = async (dir = folder): Promise<string[]> => (await readdir(dir)).filter((n) => n.startsWith(UPLOAD_TEMP_PREFIX));

  it('round-trips a binary file byte-identical, streamed both ways, and lists it', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const chunks = Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536));
    const written = await jail.write('photo ✓.bin', Readable.from(chunks));
    assert.equal(written.size, data.length);
    const { stream, size } = await jail.read('photo ✓.bin');
    assert.equal(size, data.length);
    assert.ok((await drain(stream)).equals(data), 'byte-identical');
    const listed = (await jail.list()).find((f) => f.name === 'photo ✓.bin');
    assert.ok(listed);
    assert.equal(listed.size, data.length);
    assert.ok(Math.abs(listed.mtimeMs - Date.now()) < 60_000);
    assert.deepEqual(await leftovers(), []);
  });

  it('writes into an existing subfolder, and not into a missing one', async () => {
    await mkdir(join(folder, 'docs'));
    await jail.write('docs/a.txt', ['hello']);
    assert.equal(await readFile(join(folder, 'docs', 'a.txt'), 'utf8'), 'hello');
    await assert.rejects(jail.write('nowhere/a.txt', ['x']), refused('not-found'));
  });

  for (const [name, why] of [
    ['..', /`\.\.`/],
    ['../outside/secret.txt', /`\.\.`/],
    ['docs/../../outside/secret.txt', /`\.\.`/],
    ['/etc/passwd', /absolute/],
    ['', /empty/],
    ['.', /`\.`/],
    ['docs//a.txt', /empty component/],
    ['docs/', /empty component/],
    ['a\0b', /NUL/],
    ['n'.repeat(256), /longer than 255 bytes/],
    ['é'.repeat(128), /longer than 255 bytes/],
  ] as const) {
    it(`refuses the name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 10)}…(${Buffer.byteLength(name)} bytes)` : name)} for reading and writing`, async () => {
      await assert.rejects(jail.read(name), refused('bad-name', why));
      await assert.rejects(jail.write(name, ['x']), refused('bad-name', why));
    });
  }

  it('accepts a 255-byte name and refuses one that is not a string', async () => {
    await jail.write('n'.repeat(255), ['ok']);
    await assert.rejects(jail.read(42), refused('bad-name', /not a string/));
  });

  it('refuses a symbolic link in the folder, pointing out or in, and leaves it out of the listing', async () => {
    await symlink(join(outside, 'secret.txt'), join(folder, 'escape.txt'));
    await symlink(join(folder, 'docs', 'a.txt'), join(folder, 'inner-link.txt'));
    await assert.rejects(jail.read('escape.txt'), refused('symlink'));
    await assert.rejects(jail.read('inner-link.txt'), refused('symlink'));
    const names = (await jail.list()).map((f) => f.name);
    assert.ok(!names.includes('escape.txt') && !names.includes('inner-link.txt') && !names.includes('docs'), names.join(','));
  });

  it('refuses a path through a symlinked folder, for reading and writing, and writes nothing outside', async () => {
    await symlink(outside, join(folder, 'linked-dir'));
    await assert.rejects(jail.read('linked-dir/secret.txt'), refused('symlink', /linked-dir/));
    await assert.rejects(jail.write('linked-dir/planted.txt', ['x']), refused('symlink'));
    assert.deepEqual((await readdir(outside)).sort(), ['secret.txt']);
  });

  it('an upload over a link of the same name replaces the link, not the file it points to', async () => {
    await jail.write('escape.txt', ['uploaded']);
    assert.equal(await readFile(join(outside, 'secret.txt'), 'utf8'), 'not yours');
    assert.ok((await lstat(join(folder, 'escape.txt'))).isFile());
    assert.equal(await readFile(join(folder, 'escape.txt'), 'utf8'), 'uploaded');
  });

  it('refuses folders, FIFOs (without blocking) and missing files for download', async () => {
    await run('mkfifo', [join(folder, 'pipe')]);
    await assert.rejects(jail.read('pipe'), refused('not-a-file'));
    await assert.rejects(jail.read('docs'), refused('not-a-file'));
    await assert.rejects(jail.read('missing.txt'), refused('not-found'));
    assert.ok(!(await jail.list()).some((f) => f.name === 'pipe'));
  });

  it('refuses to replace an existing file when asked not to, keeping it', async () => {
    await jail.write('keep.txt', ['first']);
    await assert.rejects(jail.write('keep.txt', ['second'], { replace: false }), refused('exists'));
    assert.equal(await readFile(join(folder, 'keep.txt'), 'utf8'), 'first');
    assert.deepEqual(await leftovers(), []);
  });

  it('an upload over the size limit fails and leaves no partial file', async () => {
    const small = await FileJail.open(folder, { maxUploadBytes: 1000 });
    await assert.rejects(small.write('big.bin', [Buffer.alloc(600), Buffer.alloc(600)]), refused('too-large', /1000 bytes/));
    await assert.rejects(small.read('big.bin'), refused('not-found'));
    assert.deepEqual(await leftovers(), []);
  });

  it('an aborted upload, or one whose source fails, leaves no partial file', async () => {
    const controller = new AbortController();
    async function* stalled(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(100);
      controller.abort();
      await new Promise((r) => setTimeout(r, 200));
      yield Buffer.alloc(100);
    }
    await assert.rejects(jail.write('aborted.bin', stalled(), { signal: controller.signal }), refused('aborted'));
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(100);
      throw new Error('connection reset');
    }
    await assert.rejects(jail.write('failed.bin', failing()), refused('io', /connection reset/));
    await new Promise((r) => setTimeout(r, 300));
    const names = await readdir(folder);
    assert.ok(!names.includes('aborted.bin') && !names.includes('failed.bin'), names.join(','));
    assert.deepEqual(await leftovers(), []);
  });

  it('refuses a folder that does not exist', async () => {
    await assert.rejects(FileJail.open(join(base, 'nope')), refused('not-found'));
  });
});
