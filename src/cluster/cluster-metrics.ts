import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics.js';

/** The cluster as this node last read it from Redis; every node serves its own view on /metrics. */
export const clusterNodesGauge = new Gauge({
  name: 'streamgate_cluster_nodes',
  help: 'Nodes registered in the cluster, as this node last saw them',
  registers: [registry],
});

export const clusterDesktopsGauge = new Gauge({
  name: 'streamgate_cluster_desktops',
  help: 'Desktops registered in the cluster, by where they live relative to this node',
  labelNames: ['owner'] as const,
  registers: [registry],
});

export const registryReadyGauge = new Gauge({
  name: 'streamgate_cluster_registry_ready',
  help: '1 while this node is registered in Redis, 0 while degraded (serving only its own desktops)',
  registers: [registry],
});

export const relayedSessionsGauge = new Gauge({
  name: 'streamgate_cluster_relayed_sessions',
  help: 'Client WebSockets this node relays to the node that owns their desktop',
  registers: [registry],
});

export const relayFailuresCounter = new Counter({
  name: 'streamgate_cluster_relay_failures_total',
  help: 'Relayed sessions ended because the owner node could not be reached or went away',
  labelNames: ['reason'] as const,
  registers: [registry],
});
