import { SignJWT } from 'jose';

/** How long a view-only share link stays valid. */
export const SHARE_TOKEN_TTL_MS = 60 * 60 * 1000;

/** A view-only HS256 JWT, as the Authenticator accepts with the same secret: role `view`, `exp` in `ttlMs`. */
export async function signViewToken(secret: string, ttlMs = SHARE_TOKEN_TTL_MS, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
  const expiresAt = Math.floor((now + ttlMs) / 1000) * 1000;
  const token = await new SignJWT({ role: 'view' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('share-link')
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(expiresAt / 1000)
    .sign(new TextEncoder().encode(secret));
  return { token, expiresAt };
}
