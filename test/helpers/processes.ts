import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

interface ProcInfo {
  pid: number;
  ppid: number;
  command: string;
}

function readProc(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command sits in parentheses and may contain spaces; the fields after it are space-separated.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return { pid, ppid: Number(fields[1]), command: cmdline || stat.slice(stat.indexOf('(') + 1, close) };
  } catch {
    return null;
  }
}

function allProcesses(): ProcInfo[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProc(Number(name)))
    .filter((p): p is ProcInfo => p !== null);
}

/** Every process below `pid` (children, grandchildren, …). */
export function descendants(pid: number): ProcInfo[] {
  const all = allProcesses();
  const found: ProcInfo[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const next = all.filter((p) => frontier.includes(p.ppid));
    found.push(...next);
    frontier = next.map((p) => p.pid);
  }
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Open UDP and TCP sockets of a process, counted from /proc/<pid>/fd. */
export function socketCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
    } catch {
      return false;
    }
  }).length;
}

export async function waitUntil(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** For failure messages: each socket of a process as `udp 127.0.0.1:5000` / `tcp …`, from /proc/net. */
export function describeSockets(pid: number): string[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`)
      .map((fd) => {
        try {
          return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        } catch {
          return undefined;
        }
      })
      .filter((inode): inode is string => inode !== undefined),
  );
  const found: string[] = [];
  for (const proto of ['udp', 'tcp', 'udp6', 'tcp6', 'unix']) {
    let table: string[];
    try {
      table = readFileSync(`/proc/${pid}/net/${proto}`, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const row of table) {
      const cols = row.trim().split(/\s+/);
      const inode = proto === 'unix' ? cols[6] : cols[9];
      if (inode && inodes.has(inode)) {
        const local = proto === 'unix' ? (cols[7] ?? '') : hexAddress(cols[1] ?? '');
        found.push(`${proto} ${local}`);
        inodes.delete(inode);
      }
    }
  }
  return [...found, ...[...inodes].map((i) => `inode ${i}`)];
}

function hexAddress(hex: string): string {
  const [ip, port] = hex.split(':');
  if (!ip || !port) return hex;
  const octets = ip.length === 8 ? (ip.match(/../g) ?? []).reverse().map((h) => parseInt(h, 16)).join('.') : ip;
  return `${octets}:${parseInt(port, 16)}`;
}
