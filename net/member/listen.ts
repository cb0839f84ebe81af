// Listening and closing for the member's own TCP servers (client and TLS peer ports).

import { rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';

/** Listens on host:port; resolves with the bound port (port 0 picks one). */
export function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/** Listens on a unix socket at `path`, replacing a stale socket file there (etcd's NewUnixListener). */
export function listenOnPath(server: Server, path: string): Promise<void> {
  rmSync(path, { force: true });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops accepting after destroying the given sockets. */
export function closeWith(server: Server, sockets: Iterable<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => { server.close(() => { resolve(); }); });
}
