// Free TCP ports on 127.0.0.1 for members, proxies and test servers.
//
// Not the kernel's choice (port 0): those come from the ephemeral range, which is also
// where every outgoing connection's local port comes from, so a port found free can be
// taken by some client's connection before the member binds it (a jepsen campaign lost
// a run to EADDRINUSE that way). Ports are drawn at random below the ephemeral range,
// and each is proven free by binding it; two runs on one machine rarely draw the same.

import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** etcd's e2e suite uses fixed ports from 20000 up; ours start above them. */
const LOWEST = 24_000;
const DEFAULT_EPHEMERAL_START = 32_768;
/** Draws before giving up on finding a free port (each is one bind). */
const MAX_DRAWS = 200;

/** The first port of the kernel's ephemeral range (Linux), or IANA's default. */
function ephemeralStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > LOWEST + 1000 ? first : DEFAULT_EPHEMERAL_START;
  } catch {
    return DEFAULT_EPHEMERAL_START;
  }
}

const HIGHEST = ephemeralStart();

/** Whether `port` can be bound on 127.0.0.1 now (it is released at once). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => { resolve(false); });
    server.listen(port, '127.0.0.1', () => { server.close(() => { resolve(true); }); });
  });
}

export async function freePort(): Promise<number> {
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const port = randomInt(LOWEST, HIGHEST);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in ${LOWEST}..${HIGHEST - 1} after ${MAX_DRAWS} draws`);
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let attempts = 0; ports.size < count; attempts++) {
    if (attempts > count * 10) throw new Error(`could not find ${count} distinct free ports`);
    ports.add(await freePort());
  }
  return [...ports];
}
