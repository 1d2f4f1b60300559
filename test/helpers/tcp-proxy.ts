/**
 * A TCP relay between a service and its database, so that a test can take the database away (every
 * connection dropped, new ones refused) and bring it back on the same address, without touching the
 * shared PostgreSQL server — or stall it as a network partition does: connections stay open, nothing
 * arrives either way, and what was sent meanwhile is delivered once the partition ends, in order,
 * followed by any close that was sent after it (as TCP retransmits it).
 */
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Drops every relayed connection and stops accepting new ones (as a database that went down). */
  cut(): Promise<void>;
  /** Accepts connections again on the same port. */
  restore(): Promise<void>;
  /** A partition: bytes are held back in both directions, connections stay open. */
  stall(): void;
  /** The partition ends: held bytes (then held closes) are delivered. */
  resume(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  let stalled = false;
  const held: Array<() => void> = [];
  const relay = (action: () => void) => {
    if (stalled) held.push(action);
    else action();
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    track(client);
    track(upstream);
    client.on('data', (chunk) => relay(() => upstream.write(chunk)));
    upstream.on('data', (chunk) => relay(() => client.write(chunk)));
    client.on('close', () => relay(() => upstream.end()));
    upstream.on('close', () => relay(() => client.destroy()));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  let listening = true;
  const stop = async () => {
    if (listening) {
      listening = false;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    }
    for (const socket of sockets) socket.destroy();
  };
  return {
    port,
    cut: stop,
    async restore() {
      if (listening) return;
      await listen(port);
      listening = true;
    },
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
      for (const action of held.splice(0)) action();
    },
    close: async () => {
      held.length = 0;
      await stop();
    },
  };
}
