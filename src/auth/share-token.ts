import { SignJWT } from 'jose';

/** How long a view-only share link stays valid. */
export const SHARE_TOKEN_TTL_MS = 60 * 60 * 1000;

/** The desktop a share link is made for. */
export interface SharedDesktop {
  name: string;
  /** Opened as `/ws/NAME` (the viewer's `?desktop=NAME`); false for a node's implicit desktop, plain `/ws`. */
  named: boolean;
}

export interface ShareLink {
  token: string;
  /** The viewer's path that opens the desktop with the token. */
  path: string;
  expiresAt: number;
}

/**
 * A view-only HS256 JWT, as the Authenticator accepts with the same secret: role `view`, `exp` in `ttlMs`,
 * and a `desktops` claim granting `desktop` alone, so that the link watches the desktop it was made for and
 * is refused on every other (grantFor in src/desktops/desktop-grant.ts).
 */
export async function signViewToken(secret: string, desktop: string, ttlMs = SHARE_TOKEN_TTL_MS, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
  const expiresAt = Math.floor((now + ttlMs) / 1000) * 1000;
  const token = await new SignJWT({ role: 'view', desktops: { [desktop]: 'view' } })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('share-link')
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(expiresAt / 1000)
    .sign(new TextEncoder().encode(secret));
  return { token, expiresAt };
}

/** Makes the share links of one desktop, signed with `secret`. */
export function shareLinkMaker(secret: string, desktop: SharedDesktop): () => Promise<ShareLink> {
  return async () => {
    const { token, expiresAt } = await signViewToken(secret, desktop.name);
    const query = new URLSearchParams({ token, ...(desktop.named ? { desktop: desktop.name } : {}) });
    return { token, path: `/?${query.toString()}`, expiresAt };
  };
}
