import { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';
import { RestartBackoff } from '../process/restart-backoff.js';
import { ClusterError, redactedUrl } from './cluster-error.js';
import { clusterDesktopsGauge, clusterNodesGauge, registryReadyGauge } from './cluster-metrics.js';
import { leastLoaded } from './placement.js';
import {
  ClusterAnnouncementSchema,
  DesktopNameSchema,
  NodeIdSchema,
  NodeRecordSchema,
  type ClusterAnnouncement,
  type DesktopName,
  type DesktopRecord,
  type NodeLoad,
  type NodeRecord,
} from './records.js';

/**
 * starting: Redis not reached yet. ready: registered, heartbeats land. degraded: Redis out of reach; this
 * node serves its own desktops and nobody else's. stopped: after stop().
 */
export type RegistryState = 'starting' | 'ready' | 'degraded' | 'stopped';

export interface ClusterRegistryOptions {
  redisUrl: string;
  node: { id: string; wsUrl: string; httpUrl: string };
  /** Read at every heartbeat and published; the desktop count is the registry's own. */
  load: () => Omit<NodeLoad, 'desktops'>;
  log: Logger;
  /** How long a node and its desktops outlive its last heartbeat. Heartbeats come every third of it. */
  ttlMs?: number;
  /** Prepended to every key and the channel, so several clusters can share one Redis. */
  keyPrefix?: string;
  /** How long start() waits for Redis before it carries on degraded. */
  startTimeoutMs?: number;
}

/** The cluster as this node last read it. Desktops whose owner is no longer registered are left out. */
export interface ClusterView {
  nodes: NodeRecord[];
  desktops: DesktopRecord[];
  /** Epoch ms of the read; 0 before the first. */
  readAt: number;
}

export interface ClusterRegistryEvents {
  state: [state: RegistryState];
  'node-gone': [nodeId: string];
  'desktop-gone': [desktop: DesktopRecord];
  /** Another node holds a name this node serves (seen when re-registering after Redis was out of reach); this node no longer owns it. */
  'desktop-conflict': [desktop: DesktopRecord];
}

const DEFAULT_TTL_MS = 15_000;
const DEFAULT_PREFIX = 'streamgate:';
const SCAN_BATCH = 500;

/**
 * Keeps a desktop key this node's, atomically: refreshes its TTL when it is ours (1), sets it when nobody
 * holds it (2: Redis lost it, e.g. restarted without persistence), or returns the owner that holds it.
 */
const REFRESH_OR_CLAIM = `
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if owner == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return owner`;

/** Deletes a key only while it still holds this node's id: a name taken over by another node is left alone. */
const DELETE_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * This node's entry in the cluster registry (Redis): its record and its desktops as keys with a TTL that
 * its heartbeat refreshes, desktop names claimed atomically so two nodes never own one, the cluster view
 * for locating desktops and placing new ones, and announcements on a channel. Redis out of reach makes it
 * `degraded`, never fatal: the node keeps its desktops and registers them again once Redis is back.
 */
export class ClusterRegistry extends EventEmitter<ClusterRegistryEvents> {
  readonly nodeId: string;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly ttlMs: number;
  private readonly heartbeatMs: number;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly log: Logger;
  private readonly startedAt = Date.now();
  private readonly owned = new Set<DesktopName>();
  private stateNow: RegistryState = 'starting';
  private lastView: ClusterView = { nodes: [], desktops: [], readAt: 0 };
  private lastHeartbeatAt = 0;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private beating = false;
  private beatAgain = false;

  constructor(private readonly options: ClusterRegistryOptions) {
    super();
    this.nodeId = NodeIdSchema.parse(options.node.id);
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.heartbeatMs = Math.max(100, Math.floor(this.ttlMs / 3));
    this.prefix = options.keyPrefix ?? DEFAULT_PREFIX;
    this.channel = `${this.prefix}events`;
    this.log = options.log.child({ node: this.nodeId });
    // Commands fail at once while Redis is away instead of queueing: a heartbeat must not land late and stale.
    this.redis = this.connect({ enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: this.heartbeatMs });
    // The subscription is re-made by ioredis on every reconnect, so it may wait in the queue.
    this.subscriber = this.connect({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.redis.on('ready', () => void this.beat());
    this.redis.on('close', () => {
      if (this.stateNow === 'ready') this.degrade(new Error('the connection to Redis closed'));
    });
    this.subscriber.on('message', (channel, text) => {
      if (channel === this.channel) this.onAnnouncement(text);
    });
  }

  private connect(overrides: Partial<RedisOptions>): Redis {
    const backoff = new RestartBackoff(100, 2000);
    const client = new Redis(this.options.redisUrl, {
      lazyConnect: true,
      connectTimeout: Math.max(1000, this.heartbeatMs),
      retryStrategy: () => backoff.next(),
      ...overrides,
    });
    client.on('ready', () => backoff.reset());
    // ioredis reports every failed reconnect; the state change is what gets logged.
    client.on('error', (err: Error) => this.log.debug({ err: err.message }, 'redis connection error'));
    return client;
  }

  get state(): RegistryState {
    return this.stateNow;
  }

  /** The cluster as last read: for /healthz and /metrics, without a round trip to Redis. */
  get view(): ClusterView {
    return this.lastView;
  }

  /** The desktops this node serves and holds the names of. */
  get localDesktops(): readonly DesktopName[] {
    return [...this.owned];
  }

  /** Connects, registers and starts the heartbeat. Resolves degraded (not rejected) when Redis stays out of reach. */
  async start(): Promise<void> {
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    // Queued until the subscriber first connects, however long Redis takes; ioredis subscribes again after each reconnect.
    this.subscriber.subscribe(this.channel).catch((err: Error) => this.log.warn({ err: err.message, channel: this.channel }, 'could not subscribe to cluster announcements; node departures are noticed at heartbeats only'));
    // A failed first connection is retried like any lost one; 'ready' registers.
    this.redis.connect().catch(() => undefined);
    try {
      await this.whenReady(this.options.startTimeoutMs ?? Math.max(2000, this.ttlMs));
    } catch {
      this.degrade(new Error(`Redis at ${redactedUrl(this.options.redisUrl)} did not answer at start`));
    }
  }

  /** Resolves once registered; rejects after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<void> {
    if (this.stateNow === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onState = (state: RegistryState) => {
        if (state !== 'ready') return;
        clearTimeout(timeout);
        this.off('state', onState);
        resolve();
      };
      const timeout = setTimeout(() => {
        this.off('state', onState);
        reject(new Error(`node "${this.nodeId}" not registered in Redis at ${redactedUrl(this.options.redisUrl)} within ${timeoutMs} ms (state: ${this.stateNow}, last error: ${this.lastError ?? 'none'})`));
      }, timeoutMs);
      this.on('state', onState);
    });
  }

  /**
   * Takes a desktop name for this node: atomically, so two nodes never own one. Claiming a name this node
   * holds already is a no-op. Throws ClusterError: invalid-name, desktop-taken, registry-unavailable.
   */
  async claim(name: string): Promise<void> {
    const desktop = this.desktopName(name);
    const result = await this.command(`claim desktop "${desktop}"`, () => this.redis.eval(REFRESH_OR_CLAIM, 1, this.desktopKey(desktop), this.nodeId, this.ttlMs));
    if (result !== 1 && result !== 2) throw new ClusterError('desktop-taken', `Desktop "${desktop}" is owned by node "${String(result)}"; choose another name or delete it there first.`);
    this.owned.add(desktop);
    // Published now rather than at the next heartbeat, so that placements right after see the new count;
    // the name is ours either way, so a failure here only waits for that heartbeat.
    try {
      await this.redis.set(this.nodeKey(this.nodeId), JSON.stringify(this.record()), 'PX', this.ttlMs);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, desktop }, 'claimed a desktop; the node record with the new count waits for the next heartbeat');
    }
  }

  /** Gives a desktop name up. With Redis out of reach the key simply expires with its TTL. */
  async release(name: string): Promise<void> {
    const desktop = this.desktopName(name);
    if (!this.owned.delete(desktop)) return;
    try {
      await this.command(`release desktop "${desktop}"`, async () => {
        await this.redis.eval(DELETE_IF_OWNER, 1, this.desktopKey(desktop), this.nodeId);
        await this.announce({ type: 'desktop-gone', desktop, node: this.nodeId });
      });
    } catch (err) {
      this.log.warn({ err: (err as Error).message, desktop, ttlMs: this.ttlMs }, 'desktop released locally; its key in Redis expires with its TTL');
    }
  }

  /**
   * The node that serves a desktop, or null when no live node does. This node's own desktops are answered
   * without Redis, so they stay reachable while degraded; others then throw registry-unavailable.
   */
  async locate(name: string): Promise<NodeRecord | null> {
    const desktop = this.desktopName(name);
    if (this.owned.has(desktop)) return this.record();
    return this.command(`locate desktop "${desktop}"`, async () => {
      const owner = await this.redis.get(this.desktopKey(desktop));
      if (owner === null) return null;
      const raw = await this.redis.get(this.nodeKey(owner));
      return raw === null ? null : this.parseNode(raw, owner);
    });
  }

  /** Reads the cluster from Redis now. Throws registry-unavailable while Redis is out of reach. */
  async refresh(): Promise<ClusterView> {
    const nodes = await this.command('list nodes', () => this.readNodes());
    const desktops = await this.command('list desktops', () => this.readDesktops(new Set(nodes.map((n) => n.id))));
    this.adopt({ nodes, desktops, readAt: Date.now() });
    return this.lastView;
  }

  /** Where a new desktop should go: the least-loaded live node with room, or null when all are full. */
  async chooseNode(): Promise<NodeRecord | null> {
    return leastLoaded((await this.refresh()).nodes);
  }

  health(): Record<string, unknown> {
    return {
      state: this.stateNow,
      node: this.nodeId,
      redis: redactedUrl(this.options.redisUrl),
      nodes: this.lastView.nodes.map((n) => n.id),
      desktops: this.lastView.desktops.length,
      local_desktops: this.owned.size,
      last_heartbeat_at: this.lastHeartbeatAt || null,
      ...(this.stateNow === 'degraded' ? { serving: 'local desktops only', last_error: this.lastError } : {}),
    };
  }

  /** Leaves the cluster: deletes this node's keys, tells the others, disconnects. */
  async stop(): Promise<void> {
    if (this.stateNow === 'stopped') return;
    clearInterval(this.timer);
    const wasReady = this.stateNow === 'ready';
    this.setState('stopped');
    if (wasReady) {
      try {
        const pipeline = this.redis.pipeline();
        pipeline.del(this.nodeKey(this.nodeId));
        for (const desktop of this.owned) pipeline.eval(DELETE_IF_OWNER, 1, this.desktopKey(desktop), this.nodeId);
        await pipeline.exec();
        await this.announce({ type: 'node-gone', node: this.nodeId });
      } catch (err) {
        this.log.warn({ err: (err as Error).message, ttlMs: this.ttlMs }, 'could not deregister; this node\'s keys expire with their TTL');
      }
    }
    this.owned.clear();
    this.redis.disconnect();
    this.subscriber.disconnect();
  }

  private async beat(): Promise<void> {
    if (this.stateNow === 'stopped') return;
    if (this.beating) {
      this.beatAgain = true;
      return;
    }
    this.beating = true;
    try {
      await this.register();
      this.lastHeartbeatAt = Date.now();
      await this.refresh();
      // stop() may have run while the heartbeat was waiting on Redis.
      const was = this.stateNow as RegistryState;
      if (was !== 'ready' && was !== 'stopped') {
        this.log.info({ desktops: this.owned.size, was }, 'registered in Redis');
        this.lastError = undefined;
        this.setState('ready');
      }
    } catch (err) {
      this.degrade(err);
    } finally {
      this.beating = false;
    }
    if (this.beatAgain) {
      this.beatAgain = false;
      void this.beat();
    }
  }

  /** Writes this node's record and keeps each of its desktop names; a name another node took meanwhile is dropped. */
  private async register(): Promise<void> {
    const desktops = [...this.owned];
    const pipeline = this.redis.pipeline();
    pipeline.set(this.nodeKey(this.nodeId), JSON.stringify(this.record()), 'PX', this.ttlMs);
    for (const desktop of desktops) pipeline.eval(REFRESH_OR_CLAIM, 1, this.desktopKey(desktop), this.nodeId, this.ttlMs);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err !== null);
    if (failed?.[0]) throw failed[0];
    desktops.forEach((desktop, i) => {
      const result = results[i + 1]?.[1];
      if (result === 1 || result === 2) return;
      this.owned.delete(desktop);
      this.log.error({ desktop, owner: result }, 'another node took this node\'s desktop name while Redis was out of reach; this node no longer owns it');
      this.emit('desktop-conflict', { name: desktop, owner: String(result) });
    });
  }

  private degrade(err: unknown): void {
    const reason = err instanceof Error ? err.message : String(err);
    this.lastError = reason;
    if (this.stateNow === 'degraded' || this.stateNow === 'stopped') return;
    this.log.warn({ err: reason, redis: redactedUrl(this.options.redisUrl), desktops: this.owned.size }, 'Redis out of reach: serving only this node\'s desktops until it is back');
    this.setState('degraded');
  }

  private setState(state: RegistryState): void {
    this.stateNow = state;
    registryReadyGauge.set(state === 'ready' ? 1 : 0);
    this.emit('state', state);
  }

  /** Takes a fresh view, announcing the nodes and desktops that dropped out since the previous one. */
  private adopt(view: ClusterView): void {
    const before = this.lastView;
    this.lastView = view;
    clusterNodesGauge.set(view.nodes.length);
    clusterDesktopsGauge.set({ owner: 'local' }, view.desktops.filter((d) => d.owner === this.nodeId).length);
    clusterDesktopsGauge.set({ owner: 'remote' }, view.desktops.filter((d) => d.owner !== this.nodeId).length);
    if (before.readAt === 0) return;
    const nodes = new Set(view.nodes.map((n) => n.id));
    for (const node of before.nodes) if (!nodes.has(node.id) && node.id !== this.nodeId) this.emit('node-gone', node.id);
    const desktops = new Set(view.desktops.map((d) => d.name));
    for (const desktop of before.desktops) if (!desktops.has(desktop.name) && desktop.owner !== this.nodeId) this.emit('desktop-gone', desktop);
  }

  private onAnnouncement(text: string): void {
    let announcement: ClusterAnnouncement;
    try {
      announcement = ClusterAnnouncementSchema.parse(JSON.parse(text));
    } catch (err) {
      this.log.warn({ err: (err as Error).message, channel: this.channel }, 'ignored a malformed cluster announcement');
      return;
    }
    if (announcement.node === this.nodeId) return;
    const { nodes, desktops, readAt } = this.lastView;
    if (announcement.type === 'node-gone') {
      this.lastView = { nodes: nodes.filter((n) => n.id !== announcement.node), desktops: desktops.filter((d) => d.owner !== announcement.node), readAt };
      this.emit('node-gone', announcement.node);
      for (const desktop of desktops) if (desktop.owner === announcement.node) this.emit('desktop-gone', desktop);
      return;
    }
    const gone = desktops.find((d) => d.name === announcement.desktop && d.owner === announcement.node);
    this.lastView = { nodes, desktops: desktops.filter((d) => d !== gone), readAt };
    this.emit('desktop-gone', gone ?? { name: announcement.desktop, owner: announcement.node });
  }

  private async announce(announcement: ClusterAnnouncement): Promise<void> {
    await this.redis.publish(this.channel, JSON.stringify(announcement));
  }

  private async readNodes(): Promise<NodeRecord[]> {
    const keys = await this.scanKeys(this.nodeKey('*'));
    if (keys.length === 0) return [];
    const values = await this.redis.mget(...keys);
    const nodes: NodeRecord[] = [];
    values.forEach((raw, i) => {
      const node = raw === null ? null : this.parseNode(raw, keys[i]!);
      if (node) nodes.push(node);
    });
    return nodes.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Desktops whose owner is registered: one whose node just expired is as good as gone. */
  private async readDesktops(liveNodes: ReadonlySet<string>): Promise<DesktopRecord[]> {
    const keys = await this.scanKeys(this.desktopKey('*'));
    if (keys.length === 0) return [];
    const owners = await this.redis.mget(...keys);
    const start = this.desktopKey('').length;
    const desktops: DesktopRecord[] = [];
    keys.forEach((key, i) => {
      const owner = owners[i];
      if (owner && liveNodes.has(owner)) desktops.push({ name: key.slice(start), owner });
    });
    return desktops.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** SCAN, not KEYS: it does not block Redis; it may return a key twice, hence the set. */
  private async scanKeys(pattern: string): Promise<string[]> {
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_BATCH);
      cursor = next;
      for (const key of batch) found.add(key);
    } while (cursor !== '0');
    return [...found];
  }

  private parseNode(raw: string, where: string): NodeRecord | null {
    try {
      return NodeRecordSchema.parse(JSON.parse(raw));
    } catch (err) {
      this.log.warn({ key: where, err: (err as Error).message }, 'ignored a malformed node record in Redis');
      return null;
    }
  }

  private record(): NodeRecord {
    const { id, wsUrl, httpUrl } = this.options.node;
    return { id, wsUrl, httpUrl, startedAt: this.startedAt, heartbeatAt: Date.now(), load: { ...this.options.load(), desktops: this.owned.size } };
  }

  private desktopName(name: string): DesktopName {
    const parsed = DesktopNameSchema.safeParse(name);
    if (!parsed.success) throw new ClusterError('invalid-name', `"${name}" is not a valid desktop name: ${parsed.error.issues[0]?.message ?? 'invalid'}.`);
    return parsed.data;
  }

  private async command<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw new ClusterError('registry-unavailable', `Could not ${what} on node "${this.nodeId}": Redis at ${redactedUrl(this.options.redisUrl)} failed (${(err as Error).message}).`, { cause: err });
    }
  }

  private nodeKey(id: string): string {
    return `${this.prefix}node:${id}`;
  }

  private desktopKey(name: string): string {
    return `${this.prefix}desktop:${name}`;
  }
}
