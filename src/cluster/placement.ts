import type { NodeLoad, NodeRecord } from './records.js';

/**
 * How much one desktop and one viewer weigh against the host's CPU (0 to 1). A desktop holds memory and an
 * X server whether or not anyone watches; a viewer holds an encoder share. The CPU figure lags (it is a
 * load average), so the counts, which change the moment a desktop is placed, decide between idle hosts.
 */
const DESKTOP_WEIGHT = 0.1;
const VIEWER_WEIGHT = 0.05;

export function loadScore(load: NodeLoad): number {
  return load.cpu + load.desktops * DESKTOP_WEIGHT + load.viewers * VIEWER_WEIGHT;
}

/**
 * The node a new desktop goes to: the lowest score among nodes with room, ties broken by id so that every
 * node makes the same choice from the same view. Null when every node is full.
 */
export function leastLoaded(nodes: readonly NodeRecord[]): NodeRecord | null {
  let best: NodeRecord | null = null;
  let bestScore = Infinity;
  for (const node of nodes) {
    if (node.load.desktops >= node.load.maxDesktops) continue;
    const score = loadScore(node.load);
    if (score < bestScore || (score === bestScore && best !== null && node.id < best.id)) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}
