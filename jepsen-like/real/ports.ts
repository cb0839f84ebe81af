// Free TCP ports on 127.0.0.1, chosen by the kernel (port 0), so that two runs on one
// machine never agree on a base by accident.

import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => { resolve(port); });
    });
  });
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  // A port released by one call may be handed out again by the next: ask until distinct.
  for (let attempts = 0; ports.size < count; attempts++) {
    if (attempts > count * 10) throw new Error(`could not find ${count} distinct free ports`);
    ports.add(await freePort());
  }
  return [...ports];
}
