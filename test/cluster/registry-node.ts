/**
 * One cluster node's registry in a process of its own, so that a test can SIGKILL it like a crashed host.
 * Usage: node registry-node.js '{"redisUrl":…,"id":…,"ttlMs":…,"desktops":[…]}'. Prints "ready" once
 * registered with its desktops claimed, and stays until killed.
 */
import { ClusterRegistry } from '../../src/cluster/registry.js';
import { logger } from '../../src/log.js';

interface NodeArgs {
  redisUrl: string;
  id: string;
  ttlMs: number;
  keyPrefix: string;
  desktops: string[];
}

const args = JSON.parse(process.argv[2] ?? '{}') as NodeArgs;
const registry = new ClusterRegistry({
  redisUrl: args.redisUrl,
  node: { id: args.id, wsUrl: `ws://127.0.0.9:1/${args.id}`, httpUrl: `http://127.0.0.9:1/${args.id}` },
  load: () => ({ cpu: 0, viewers: 0, maxDesktops: 10 }),
  log: logger('test.registry-node'),
  ttlMs: args.ttlMs,
  keyPrefix: args.keyPrefix,
});
await registry.start();
await registry.whenReady(10_000);
for (const desktop of args.desktops) await registry.claim(desktop);
process.stdout.write('ready\n');
