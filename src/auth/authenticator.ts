import { readFileSync } from 'node:fs';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { sameSecret } from './same-secret.js';
import { jwtVerify, errors as joseErrors } from 'jose';

export type Role = 'control' | 'view';

/** Who a connection is, once its credentials are checked. */
export interface Principal {
  role: Role;
  subject?: string;
  /** Epoch ms after which the credentials stop being valid; the connection is closed then. */
  expiresAt?: number;
  /** The desktops a JWT's `desktops` claim grants, each with its role; absent, the credentials grant every desktop. */
  desktops?: Readonly<Record<string, Role>>;
}

export class AuthError extends Error {
  override name = 'AuthError';
}

export interface AuthSettings {
  authToken?: string | undefined;
  jwtSecret?: string | undefined;
  jwtPublicKey?: string | undefined;
}

/** The `desktops` claim: `{"NAME": "control" | "view", …}`; anything else rejects the token. */
function desktopsClaim(claim: unknown): Record<string, Role> | undefined {
  if (claim === undefined) return undefined;
  if (typeof claim !== 'object' || claim === null || Array.isArray(claim)) throw new AuthError('The token\'s "desktops" claim must map desktop names to "control" or "view".');
  const grants: Record<string, Role> = Object.create(null) as Record<string, Role>;
  for (const [name, role] of Object.entries(claim)) {
    if (role !== 'control' && role !== 'view') throw new AuthError(`The token's role "${String(role)}" for desktop "${name}" is neither "control" nor "view".`);
    grants[name] = role;
  }
  return grants;
}

/** Everyone is a controller when auth is off (local use). */
export const OPEN_PRINCIPAL: Principal = { role: 'control' };

/**
 * Checks a shared-secret token or a JWT (HS256 with a secret; RS256/ES256 with a PEM public key, via jose).
 * JWTs must carry `exp`; `role` is `control` or `view` (absent = `view`, the least privilege).
 */
export class Authenticator {
  private readonly secret: Uint8Array | undefined;
  private readonly publicKey: KeyObject | undefined;

  private constructor(private readonly settings: AuthSettings) {
    this.secret = settings.jwtSecret ? new TextEncoder().encode(settings.jwtSecret) : undefined;
    this.publicKey = settings.jwtPublicKey ? createPublicKey(readFileSync(settings.jwtPublicKey)) : undefined;
  }

  /** Null when no credential option is set: auth is off. */
  static fromSettings(settings: AuthSettings): Authenticator | null {
    if (!settings.authToken && !settings.jwtSecret && !settings.jwtPublicKey) return null;
    return new Authenticator(settings);
  }

  async verify(token: string | undefined): Promise<Principal> {
    if (!token) throw new AuthError('Credentials are required: send a token (Authorization: Bearer, ?token=, or the bearer.<token> subprotocol).');
    if (this.settings.authToken && sameSecret(token, this.settings.authToken)) return { role: 'control' };
    if (token.split('.').length === 3 && (this.secret || this.publicKey)) return this.verifyJwt(token);
    throw new AuthError('The token is not valid.');
  }

  private async verifyJwt(token: string): Promise<Principal> {
    const key = this.publicKey ?? this.secret!;
    const algorithms = this.publicKey ? ['RS256', 'ES256'] : ['HS256'];
    try {
      const { payload } = await jwtVerify(token, key, { algorithms, requiredClaims: ['exp'] });
      const role = payload.role ?? 'view';
      if (role !== 'control' && role !== 'view') throw new AuthError(`The token's role "${String(role)}" is neither "control" nor "view".`);
      const desktops = desktopsClaim(payload.desktops);
      return { role, ...(payload.sub ? { subject: payload.sub } : {}), expiresAt: payload.exp! * 1000, ...(desktops ? { desktops } : {}) };
    } catch (err) {
      if (err instanceof AuthError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new AuthError('The token has expired.');
      if (err instanceof joseErrors.JOSEError) throw new AuthError(`The token was rejected: ${err.code}.`);
      throw err;
    }
  }
}
