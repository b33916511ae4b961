/** The server and headless Firefox a test in this folder drives, started together and stopped together. */
import { launchFirefox, type FirefoxBrowser } from '../helpers/firefox.js';
import { startServer, type TestServer } from '../helpers/server.js';

export interface FirefoxRig {
  server: TestServer;
  firefox: FirefoxBrowser;
}

/** Both at once (each takes seconds); when one fails, the other is stopped before the failure is thrown. */
export async function startFirefoxRig(serverArgs?: string[]): Promise<FirefoxRig> {
  const [server, firefox] = await Promise.allSettled([startServer(serverArgs), launchFirefox()]);
  if (server.status === 'fulfilled' && firefox.status === 'fulfilled') return { server: server.value, firefox: firefox.value };
  await stopFirefoxRig({
    ...(server.status === 'fulfilled' && { server: server.value }),
    ...(firefox.status === 'fulfilled' && { firefox: firefox.value }),
  });
  throw server.status === 'rejected' ? server.reason : (firefox as PromiseRejectedResult).reason;
}

export async function stopFirefoxRig(rig: Partial<FirefoxRig> | undefined): Promise<void> {
  await rig?.firefox?.close();
  await rig?.server?.stop();
}
