import type { StreamgateClient } from '../src/client/index.js';

/**
 * The headers that make an HTTP request (/files/, /clipboard) act for this viewer's session: its welcome's
 * id and resume token, and the page's auth token when it has one (docs/protocol.md, "File transfer").
 */
export function sessionHeaders(client: StreamgateClient, token: string | null): Record<string, string> {
  const session = client.session;
  const headers: Record<string, string> = session ? { 'x-streamgate-session': session.session_id, 'x-streamgate-resume-token': session.resume_token } : {};
  if (token) headers.authorization = `Bearer ${token}`;
  return headers;
}

/** The `message` of a JSON refusal, else the status. */
export async function refusalOf(res: Response): Promise<string> {
  const body = (await res.json().catch(() => null)) as { message?: string } | null;
  return body?.message ?? `HTTP ${res.status}`;
}
