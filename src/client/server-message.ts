import type { ServerMessage } from '../protocol/index.js';

/**
 * Light structural check of a server frame, so that a malformed one is reported instead of throwing
 * deep inside a handler; the types past it are the protocol's. Returns what is wrong as a string.
 */
export function readServerMessage(text: string): ServerMessage | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not a JSON object';
  const m = raw as Record<string, unknown>;
  if (typeof m.type !== 'string') return 'no `type`';
  if (m.type === 'error') {
    const e = m.error as Record<string, unknown> | undefined;
    if (typeof e !== 'object' || e === null || typeof e.code !== 'string') return 'error without `error.code`';
    return raw as ServerMessage;
  }
  if (typeof m.data !== 'object' || m.data === null) return `${m.type} without \`data\``;
  const d = m.data as Record<string, unknown>;
  if (m.type === 'welcome' && typeof d.session_id !== 'string') return 'welcome without `session_id`';
  if (m.type === 'offer' && typeof (d.sdp as { sdp?: unknown } | undefined)?.sdp !== 'string') return 'offer without `sdp.sdp`';
  if (m.type === 'ice-candidate' && typeof (d.candidate as { candidate?: unknown } | undefined)?.candidate !== 'string') {
    return 'ice-candidate without `candidate.candidate`';
  }
  return raw as ServerMessage;
}
