import { AuthError, type Principal } from '../auth/authenticator.js';

/**
 * What credentials allow on one desktop: unchanged when they name no desktops; with a `desktops` claim,
 * that desktop's role, or an AuthError when the claim leaves it out.
 */
export function grantFor(credentials: Principal, desktop: string): Principal | AuthError {
  if (!credentials.desktops) return credentials;
  const role = credentials.desktops[desktop];
  if (role === undefined) return new AuthError(`These credentials do not grant desktop "${desktop}".`);
  return { ...credentials, role };
}

/** Whether credentials may open a desktop at all (to list it). */
export function mayOpen(credentials: Principal, desktop: string): boolean {
  return !credentials.desktops || credentials.desktops[desktop] !== undefined;
}
