/** What the figures were measured on: the machine, the software versions, and how busy it already was. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { loadAverage } from './proc.js';
import { ROOT } from './paths.js';

export interface MachineInfo {
  date: string;
  nproc: number;
  cpuModel: string;
  ramGiB: number;
  node: string;
  gstreamer: string;
  chromium: string;
  kernel: string;
  loadAtStart: [number, number, number];
  commit: string;
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], cwd: ROOT }).trim();
  } catch {
    return 'unknown';
  }
}

export function machineInfo(): MachineInfo {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const dirty = run('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src']) !== '';
  return {
    date: new Date().toISOString(),
    nproc: Number(run('nproc', [])) || cpus().length,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    ramGiB: totalmem() / 2 ** 30,
    node: process.version,
    gstreamer: run('gst-launch-1.0', ['--version']).split('\n')[1]?.trim() ?? 'unknown',
    chromium: run('/usr/bin/chromium', ['--version']),
    kernel: run('uname', ['-r']),
    loadAtStart: loadAverage(),
    commit: `${run('git', ['rev-parse', '--short', 'HEAD'])}${dirty ? ' (src modified)' : ''}`,
  };
}
