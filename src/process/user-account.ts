import { execFile } from 'node:child_process';
import { chown, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A local account a child process can run as. */
export interface UserAccount {
  name: string;
  uid: number;
  gid: number;
  /** The account's home directory as the password database has it (may not exist: nobody's is /nonexistent). */
  home: string;
  /** A shell a terminal may start for this account: its own if it is a login shell, else /bin/sh. */
  shell: string;
}

/**
 * The account a server running as root gives its apps when none is named: present on every Debian without
 * any set-up, and owning no files that an app running as it could change.
 */
export const DEFAULT_APP_USER = 'nobody';

/** Looks an account up by name or numeric id through NSS (`getent passwd`), so LDAP and the like work too. */
export async function lookupUser(nameOrId: string): Promise<UserAccount> {
  let line: string;
  try {
    line = (await promisify(execFile)('getent', ['passwd', nameOrId], { encoding: 'utf8' })).stdout.trim();
  } catch (err) {
    // getent exits 2 for a name it does not know.
    throw new Error(`no such user: ${JSON.stringify(nameOrId)} (getent passwd: ${(err as Error).message.trim()})`);
  }
  const [name, , uid, gid, , home, shell] = line.split('\n')[0]!.split(':');
  if (!name || !/^\d+$/.test(uid ?? '') || !/^\d+$/.test(gid ?? '')) throw new Error(`cannot read the account of ${JSON.stringify(nameOrId)}: ${line}`);
  return { name, uid: Number(uid), gid: Number(gid), home: home ?? '/', shell: (await loginShells()).has(shell ?? '') ? shell! : '/bin/sh' };
}

/**
 * The account `requested` (or DEFAULT_APP_USER) when this process is root and may switch to it; null when the
 * child simply runs as this process does (not root, or root asked for explicitly). A non-root process cannot
 * switch users, so naming another account then is an error rather than silently ignored.
 */
export async function unprivilegedAccount(requested: string | undefined): Promise<UserAccount | null> {
  const ownUid = process.getuid?.();
  if (ownUid !== 0) {
    if (requested === undefined) return null;
    const account = await lookupUser(requested);
    if (account.uid !== ownUid) throw new Error(`running as uid ${ownUid}, not root: cannot run the app as ${account.name}`);
    return null;
  }
  const account = await lookupUser(requested ?? DEFAULT_APP_USER).catch((err: Error) => {
    throw new Error(`running as root, the app runs as an unprivileged account, but ${err.message}: name an existing one (--app-user)`);
  });
  return account.uid === 0 ? null : account;
}

async function loginShells(): Promise<Set<string>> {
  const text = await readFile('/etc/shells', 'utf8').catch(() => '');
  return new Set(text.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('/')));
}

/** A HOME for a child running as `account`, and whether the caller made it (and removes it when done). */
export interface ChildHome {
  path: string;
  temporary: boolean;
}

/**
 * The account's own home when it is a directory the account owns; else a fresh 0700 directory owned by it
 * (nobody's home is /nonexistent, and apps such as browsers need a HOME they can write).
 */
export async function homeFor(account: UserAccount): Promise<ChildHome> {
  const own = await stat(account.home).catch(() => null);
  if (own?.isDirectory() && own.uid === account.uid) return { path: account.home, temporary: false };
  return { path: await privateDirectory('streamgate-home-', account), temporary: true };
}

/** A fresh 0700 directory under the system's temporary directory, owned by `account` when given. */
export async function privateDirectory(prefix: string, account: UserAccount | null): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  if (account) await chown(dir, account.uid, account.gid);
  return dir;
}

/**
 * The environment of a child running as `account`: the server's, without what belongs to the server's own
 * user or configures the server (STREAMGATE_* may hold its credentials), and with the account's identity.
 */
export function environmentFor(account: UserAccount, home: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) {
    if (!key.startsWith('STREAMGATE_') && !SERVER_USER_VARIABLES.has(key)) env[key] = value;
  }
  return { ...env, HOME: home, USER: account.name, LOGNAME: account.name, SHELL: account.shell };
}

/** Paths into the server user's private files, which the account could not read anyway. */
const SERVER_USER_VARIABLES = new Set(['XAUTHORITY', 'XDG_RUNTIME_DIR', 'DBUS_SESSION_BUS_ADDRESS', 'MAIL']);
