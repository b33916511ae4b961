/**
 * Why a cluster operation failed, for the HTTP API to map onto a status: a bad name (400), no such desktop
 * (404), a name in use (409), no node with room or the registry out of reach (503).
 */
export type ClusterErrorKind = 'invalid-name' | 'not-found' | 'desktop-taken' | 'no-room' | 'registry-unavailable';

export class ClusterError extends Error {
  override name = 'ClusterError';

  constructor(
    readonly kind: ClusterErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A Redis URL fit for logs and error messages: the password is left out. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable Redis URL)';
  }
}
