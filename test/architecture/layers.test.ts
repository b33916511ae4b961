import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filesUnder, importCycles, importGraph, importsOf, lineCount, readSource } from './source-tree.js';

/**
 * Violations that other branches are removing while this check lands. While only these remain, their
 * check is reported as a todo naming them; any other violation fails. Delete an entry once it is gone.
 */
/** A check over a list of violations: passes when there are none, and names every one when it fails. */
function checkNone(name: string, violations: string[], what: string): void {
  test(name, () => {
    assert.deepEqual(violations, [], `${what}: ${violations.join('; ')}`);
  });
}

/** The src/ folders (layers) a layer's modules import from, other than its own. */
function importedLayers(layer: string): Set<string> {
  const layers = new Set<string>();
  for (const file of filesUnder(`src/${layer}`, (p) => p.endsWith('.ts'))) {
    for (const target of importsOf(file)) {
      const folder = /^src\/([\w-]+)\//.exec(target)?.[1];
      if (folder && folder !== layer) layers.add(folder);
    }
  }
  return layers;
}

test('input and desktop share the X11 client from the x11 layer below them, and neither imports the other', () => {
  const input = importedLayers('input');
  const desktop = importedLayers('desktop');
  assert.ok(input.has('x11') && desktop.has('x11'), 'both use src/x11');
  assert.ok(!input.has('desktop'), `input imports ${[...input].join(', ')}`);
  assert.ok(!desktop.has('input'), `desktop imports ${[...desktop].join(', ')}`);
  assert.deepEqual([...importedLayers('x11')], [], 'x11 imports no layer of ours but the logger');
});

test('media does not import signaling: signaling drives media, never the reverse', () => {
  assert.ok(!importedLayers('media').has('signaling'), `media imports ${[...importedLayers('media')].join(', ')}`);
});

test('protocol imports nothing of ours: it is the pure vocabulary server and client share', () => {
  const outside = filesUnder('src/protocol', (p) => p.endsWith('.ts')).flatMap((file) =>
    importsOf(file)
      .filter((target) => !target.startsWith('src/protocol/'))
      .map((target) => `${file} imports ${target}`),
  );
  assert.deepEqual(outside, []);
});

checkNone('no import cycle in src/', importCycles(importGraph('src')), 'import cycles');

/**
 * The public entry points of src/: what the package exports (src/protocol/index.ts,
 * src/client/index.ts), the server's src/main.ts, and each layer's index.ts.
 */
const isEntryPoint = (path: string): boolean => path === 'src/main.ts' || /^src\/[\w-]+\/index\.ts$/.test(path);

test('bench uses src/ only through its public entry points (main.ts and the layers\' index.ts)', () => {
  const internal = filesUnder('bench', (p) => p.endsWith('.ts')).flatMap((file) =>
    importsOf(file)
      .filter((target) => target.startsWith('src/') && !isEntryPoint(target))
      .map((target) => `${file} imports ${target}`),
  );
  assert.deepEqual(internal, []);
});

const MAX_LINES = 500;
checkNone(
  `no file in src/ or web/ over ${MAX_LINES} lines`,
  [...filesUnder('src'), ...filesUnder('web')].filter((file) => lineCount(file) > MAX_LINES),
  `files over ${MAX_LINES} lines`,
);

/** Code and scripts; the bench's notes and results are prose and data, not comments. */
const CODE = /\.(ts|mjs|js|html|css|py|go|sh)$/;
/** This file names them, to look for them. */
const SELF = 'test/architecture/layers.test.ts';
checkNone(
  'no code in src/, web/, test/ or bench/ cites DESIGN.md or PROTOCOL.md, in comments or test names (not in the repo: docs/ holds what they said)',
  ['src', 'web', 'test', 'bench']
    .flatMap((folder) => filesUnder(folder, (p) => CODE.test(p)))
    .filter((file) => file !== SELF && /\b(DESIGN|PROTOCOL)\.md\b/.test(readSource(file))),
  'files citing DESIGN.md or PROTOCOL.md',
);
