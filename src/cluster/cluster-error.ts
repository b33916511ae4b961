/**
 * Why a cluster operation failed, for the HTTP API to map onto a status: a bad name (400), a name another
 * node owns (409), the registry out of reach (503).
 */
export type ClusterErrorKind = 'invalid-name' | 'desktop-taken' | 'registry-unavailable';

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
