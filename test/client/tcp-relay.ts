import net from 'node:net';

/**
 * A loopback TCP relay between the client and the server whose client side can be cut while the
 * server side stays open: what a dropped Wi-Fi or NAT entry looks like to the server.
 */
export async function relay(targetPort: number): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const upstreams = new Set<net.Socket>();
  const downstreams = new Set<net.Socket>();
  const srv = net.createServer((down) => {
    const up = net.connect(targetPort, '127.0.0.1');
    upstreams.add(up);
    downstreams.add(down);
    down.pipe(up);
    up.pipe(down);
    const drop = (): void => {
      downstreams.delete(down);
      down.destroy();
    };
    down.on('error', drop);
    up.on('error', () => up.destroy());
    up.on('close', drop);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as net.AddressInfo).port,
    cut() {
      for (const down of downstreams) {
        down.unpipe();
        down.removeAllListeners('data');
        down.destroy(); // the client sees its connection die; the server's side stays open
      }
      downstreams.clear();
    },
    async close() {
      for (const s of [...upstreams, ...downstreams]) s.destroy();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}

