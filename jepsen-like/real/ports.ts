// Free TCP ports on 127.0.0.1 for members, proxies and test servers.
//
// Not the kernel's choice (port 0): those come from the ephemeral range, which is also
// where every outgoing connection's local port comes from, so a port found free can be
// taken by some client's connection before the member binds it (a jepsen campaign lost
// a run to EADDRINUSE that way). Ports are drawn at random below the ephemeral range,
// and each is proven free by binding it. Each drawn port is also claimed for the
// drawing process's lifetime (a file made exclusively): two processes drawing the same
// port before either binds it was the race left (CI runs lost a start to it now and
// then, with parallel test workers drawing thousands of ports).

import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

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

/** One file per claimed port, holding the claiming process's pid. */
const CLAIMS_DIR = path.join(tmpdir(), 'tern-port-claims');
const claimedHere: string[] = [];
process.once('exit', () => { for (const file of claimedHere) rmSync(file, { force: true }); });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims `port` for this process until it exits; false if a live process claimed it
 * first. A claim left by a process that is gone (killed before its exit handler) is
 * taken over.
 */
function claim(port: number): boolean {
  mkdirSync(CLAIMS_DIR, { recursive: true });
  const file = path.join(CLAIMS_DIR, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      claimedHere.push(file);
      return true;
    } catch {
      let owner = Number.NaN;
      try { owner = Number(readFileSync(file, 'utf8')); } catch { /* removed meanwhile: try again */ }
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) return false;
      rmSync(file, { force: true });
    }
  }
  return false;
}

export async function freePort(): Promise<number> {
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const port = randomInt(LOWEST, HIGHEST);
    if (claim(port) && await bindable(port)) return port;
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
