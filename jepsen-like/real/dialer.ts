// Which of our processes dialed a loopback TCP connection, read from /proc (Linux,
// no root: the members are our own children).
//
// Why: a member advertises one peer URL, which every other member dials. To cut one
// link (A to B) and not another (C to B) the proxy in front of B must know who is on
// the other end of each connection it accepts. The kernel knows: /proc/net/tcp maps the
// dialer's ephemeral port to a socket inode, and /proc/PID/fd shows which process
// holds that inode.

import { readFile, readdir, readlink } from 'node:fs/promises';

/** 127.0.0.1:port as /proc/net/tcp writes it (little-endian address, hex port). */
function loopbackHex(port: number): string {
  return `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The inode of the socket bound to 127.0.0.1:localPort and connected to 127.0.0.1:remotePort. */
async function socketInode(localPort: number, remotePort: number): Promise<string | undefined> {
  const table = await readFile('/proc/net/tcp', 'utf8');
  const local = loopbackHex(localPort);
  const remote = loopbackHex(remotePort);
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === local && fields[2] === remote) return fields[9];
  }
  return undefined;
}

async function holdsSocket(pid: number, inode: string): Promise<boolean> {
  const wanted = `socket:[${inode}]`;
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false; // exited meanwhile
  }
  for (const fd of fds) {
    try {
      if (await readlink(`/proc/${pid}/fd/${fd}`) === wanted) return true;
    } catch {
      // the fd closed while we looked
    }
  }
  return false;
}

/**
 * The name of the process (of `candidates`, name by pid) that holds the dialing end of a
 * connection from 127.0.0.1:dialerPort to 127.0.0.1:acceptorPort, or undefined.
 */
export async function dialerOf(dialerPort: number, acceptorPort: number, candidates: ReadonlyMap<number, string>): Promise<string | undefined> {
  const inode = await socketInode(dialerPort, acceptorPort);
  if (inode === undefined || inode === '0') return undefined;
  for (const [pid, name] of candidates) {
    if (await holdsSocket(pid, inode)) return name;
  }
  return undefined;
}
