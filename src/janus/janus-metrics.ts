import { Gauge, type Registry } from 'prom-client';
import type { JanusOffload } from './janus-offload.js';
import type { MountpointFigures } from './janus-target.js';

const PER_MOUNTPOINT: [keyof MountpointFigures & ('viewers' | 'forwardedPackets' | 'keyframeRequests'), string, string][] = [
  ['viewers', 'streamgate_janus_viewers', 'Viewers this Janus serves for us, per mountpoint'],
  ['forwardedPackets', 'streamgate_janus_forwarded_packets', 'RTP packets forwarded to the mountpoint (monotonic)'],
  ['keyframeRequests', 'streamgate_janus_keyframe_requests', 'Keyframe requests Janus relayed from its viewers (monotonic)'],
];

/** The Janus figures as gauges, read at scrape time: ours, and Janus's own viewer count per mountpoint. */
export function registerJanusMetrics(registry: Registry, offload: JanusOffload): void {
  new Gauge({
    name: 'streamgate_janus_up',
    help: '1 while the Janus gateway answers, 0 while it is being reconnected',
    labelNames: ['janus'] as const,
    registers: [registry],
    collect() {
      for (const target of offload.targets) this.set({ janus: target.url }, Number(target.isUp));
    },
  });
  for (const [figure, name, help] of PER_MOUNTPOINT) {
    new Gauge({
      name,
      help,
      labelNames: ['janus', 'codec'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const target of offload.targets) {
          for (const mountpoint of target.stats().mountpoints) this.set({ janus: target.url, codec: mountpoint.codec }, mountpoint[figure]);
        }
      },
    });
  }
  new Gauge({
    name: 'streamgate_janus_mountpoint_viewers',
    help: "Viewers of our mountpoint by Janus's own count (absent while it does not answer)",
    labelNames: ['janus', 'codec'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const target of offload.targets) {
        for (const { codec, viewers } of await target.janusViewers()) if (viewers !== null) this.set({ janus: target.url, codec }, viewers);
      }
    },
  });
}
