import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

/** The TypeScript sources (not the compiled copy this test runs from). */
const SRC = new URL('../../../src/', import.meta.url);

/** The folders a layer's modules import from, other than its own. */
function importedLayers(layer: string): Set<string> {
  const layers = new Set<string>();
  for (const file of readdirSync(new URL(`${layer}/`, SRC)).filter((name) => name.endsWith('.ts'))) {
    const text = readFileSync(new URL(`${layer}/${file}`, SRC), 'utf8');
    for (const [, folder] of text.matchAll(/from '\.\.\/([\w-]+)\//g)) layers.add(folder!);
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
