/**
 * The repository's own sources as the architecture checks read them: the TypeScript files (not the
 * compiled copies the tests run from), the relative imports between them, and the cycles those form.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/architecture). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Repository-relative paths (with `/`) of the files under `folder`, skipping build output and dependencies. */
export function filesUnder(folder: string, keep: (path: string) => boolean = () => true): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = posix.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist' && entry.name !== 'out') walk(path);
      } else if (keep(path)) {
        found.push(path);
      }
    }
  };
  walk(folder);
  return found.sort();
}

export function readSource(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/** A line count as `wc -l` gives it. */
export function lineCount(path: string): number {
  return readSource(path).split('\n').length - 1;
}

/** `from '…'`, `import '…'` and `import('…')` with a relative specifier. */
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/**
 * The repository files `path` imports by relative path, type-only imports included (a cycle of types
 * still ties two modules' meanings together). Compiled names (`.js`) are mapped back to their `.ts`.
 */
export function importsOf(path: string): string[] {
  const targets = new Set<string>();
  for (const [, specifier] of readSource(path).matchAll(RELATIVE_IMPORT)) {
    const target = relative(ROOT, join(ROOT, dirname(path), specifier!)).split('\\').join('/');
    targets.add(target.replace(/\.js$/, '.ts'));
  }
  return [...targets].sort();
}

export type ImportGraph = Map<string, string[]>;

/** Every `.ts` file under `folder` and the files of that same folder it imports. */
export function importGraph(folder: string): ImportGraph {
  const files = filesUnder(folder, (p) => p.endsWith('.ts') && !p.endsWith('.d.ts'));
  const inside = new Set(files);
  return new Map(files.map((file) => [file, importsOf(file).filter((target) => inside.has(target))]));
}

/**
 * The import cycles of `graph`, one per strongly connected component (Tarjan), each written as a walk
 * from its first file back to it: `a.ts → b.ts → a.ts`.
 */
export function importCycles(graph: ImportGraph): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file)!, index.get(next)!));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || (graph.get(file) ?? []).includes(file)) components.push(component.sort());
    }
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return components.map((component) => walkBack(graph, component)).sort();
}

/** The shortest walk inside `component` from its first file back to it (breadth first). */
function walkBack(graph: ImportGraph, component: string[]): string {
  const start = component[0]!;
  const members = new Set(component);
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const next of graph.get(file) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const walk = [start];
        for (let at: string | undefined = file; at !== start && at !== undefined; at = cameFrom.get(at)) walk.splice(1, 0, at);
        return [...walk, start].join(' → ');
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, file);
        queue.push(next);
      }
    }
  }
  return component.join(' ↔ ');
}
