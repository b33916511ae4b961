/** A forked bench helper process spoken to over IPC: send a command, await the event that answers it. */
import { fork, type ChildProcess } from 'node:child_process';

export class Child {
  private waiters: { ev: string; resolve: (m: Record<string, unknown>) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(readonly process: ChildProcess) {
    process.on('message', (m: Record<string, unknown>) => {
      const i = this.waiters.findIndex((w) => w.ev === m.ev);
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
    });
    this.exited = new Promise((resolve) => process.once('exit', (code) => resolve(code)));
  }

  /** Forks `script` with `args`, waits for its {ev:'ready'}. */
  static async start(script: string, args: string[], options: { execArgv?: string[]; timeoutMs?: number } = {}): Promise<Child> {
    const child = new Child(fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: options.execArgv ?? [] }));
    try {
      await child.next('ready', options.timeoutMs ?? 20_000);
    } catch (err) {
      // A helper that is late to start must not outlive the run that gave up on it.
      child.process.kill('SIGKILL');
      throw err;
    }
    return child;
  }

  get pid(): number {
    return this.process.pid!;
  }

  next(ev: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child ${this.process.pid}: no '${ev}' within ${timeoutMs} ms`)), timeoutMs);
      const waiter = {
        ev,
        resolve: (m: Record<string, unknown>) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      this.waiters.push(waiter);
      void this.exited.then((code) => {
        if (!this.waiters.includes(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`child ${this.process.pid} exited (${code}) before '${ev}'`));
      });
    });
  }

  async request(message: Record<string, unknown>, ev: string, timeoutMs?: number): Promise<Record<string, unknown>> {
    const answer = this.next(ev, timeoutMs);
    this.process.send(message);
    return answer;
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    try {
      this.process.send({ cmd: 'exit' });
    } catch {
      /* channel closed */
    }
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
