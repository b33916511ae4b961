/**
 * The server's side of this viewer's rate control in the stats overlay: its bandwidth estimate, the ladder rung
 * it places the viewer on, the loss and round trip it measures and the rate its pacer sends, from `stats` →
 * `webrtc.video.congestion` (docs/rate-control.md, "Visibility"). The browser's own figures above it say what
 * arrives; these say what the server believes, which is what sets the encoder.
 */
import type { StreamgateClient } from '../src/client/index.js';

export interface CongestionFields {
  estimate: HTMLElement;
  rung: HTMLElement;
  loss: HTMLElement;
  rtt: HTMLElement;
  send: HTMLElement;
}

/** What the overlay reads of `webrtc.video.congestion`; anything missing or of another type shows as "–". */
interface Congestion {
  estimate_kbps?: number;
  source?: string;
  rung?: string;
  rung_target_kbps?: number | null;
  loss_fraction?: number;
  rtt_ms?: number | null;
  send_kbps?: number | null;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Validated at the edge: the stats message's `webrtc` section is open-ended (`Record<string, unknown>`). */
function congestionOf(webrtc: unknown): Congestion | null {
  if (!isRecord(webrtc) || !isRecord(webrtc.video) || !isRecord(webrtc.video.congestion)) return null;
  const c = webrtc.video.congestion;
  return {
    estimate_kbps: num(c.estimate_kbps),
    source: str(c.source),
    rung: str(c.rung),
    rung_target_kbps: num(c.rung_target_kbps) ?? null,
    loss_fraction: num(c.loss_fraction),
    rtt_ms: num(c.rtt_ms) ?? null,
    send_kbps: num(c.send_kbps) ?? null,
  };
}

function kbit(kbps: number): string {
  return kbps >= 1000 ? `${(kbps / 1000).toFixed(1)} Mbit/s` : `${Math.round(kbps)} kbit/s`;
}

function set(node: HTMLElement, text: string, level: '' | 'good' | 'warn' | 'bad' = ''): void {
  node.textContent = text;
  node.className = level;
}

/** Asks the server for this viewer's figures and shows them; "–" where there are none (adaptive bitrate off, no video yet). */
export async function refreshCongestion(client: StreamgateClient, fields: CongestionFields): Promise<void> {
  let congestion: Congestion | null = null;
  try {
    congestion = congestionOf((await client.requestStats(['webrtc'])).webrtc);
  } catch {
    congestion = null;
  }
  const c = congestion ?? {};
  set(fields.estimate, c.estimate_kbps === undefined ? '–' : `${kbit(c.estimate_kbps)}${c.source ? ` (${c.source})` : ''}`);
  set(fields.rung, c.rung === undefined ? '–' : `${c.rung}${c.rung_target_kbps ? ` · ${kbit(c.rung_target_kbps)}` : ''}`, c.rung === undefined ? '' : c.rung === 'full' ? 'good' : c.rung === 'reduced' ? 'warn' : 'bad');
  const loss = c.loss_fraction === undefined ? undefined : c.loss_fraction * 100;
  set(fields.loss, loss === undefined ? '–' : `${loss.toFixed(1)} %`, loss === undefined ? '' : loss < 0.5 ? 'good' : loss < 3 ? 'warn' : 'bad');
  set(fields.rtt, c.rtt_ms == null ? '–' : `${c.rtt_ms} ms`, c.rtt_ms == null ? '' : c.rtt_ms < 80 ? 'good' : c.rtt_ms < 200 ? 'warn' : 'bad');
  set(fields.send, c.send_kbps == null ? '–' : kbit(c.send_kbps));
}
