// etcd's URL flags name http://host:port URLs; grpc-js and node:net take the host and
// port apart. The conversions between the two.

/** "http://127.0.0.1:2379" or "https://…" → "127.0.0.1:2379" (what grpc-js binds); null if not such a URL. */
export function hostPort(url: string): string | null {
  try {
    const u = new URL(url);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.port === '') return null;
    return `${u.hostname}:${u.port}`;
  } catch {
    return null;
  }
}

/**
 * What grpc-js dials for a peer URL: "host:port" for http(s)://, "unix:<path>" for
 * unix:// (etcd's peers may listen on a unix socket: e2e TestEtcdUnixPeers). null: not a
 * URL a peer can be reached at (unixs:// peers are not served: Tern's peer TLS acceptor
 * listens on TCP only).
 */
export function peerDialTarget(url: string): string | null {
  if (/^unix:\/\//i.test(url)) {
    const path = unixSocketPath(url);
    return path === null ? null : `unix:${path}`;
  }
  return hostPort(url);
}

/** Whether a listen URL serves TLS (etcd: https:// and unixs://). */
export function isSecureUrl(url: string): boolean {
  return /^(https|unixs):\/\//i.test(url);
}

/** A socket to listen on, and whether it speaks TLS. */
export interface ListenAddress {
  /** host:port, or — for a unix:// or unixs:// URL — the socket's path. */
  readonly address: string;
  readonly secure: boolean;
  readonly unix?: boolean;
}

/** The listen address of an http(s):// or unix(s):// URL. */
export function listenAddressOf(url: string): ListenAddress {
  const path = unixSocketPath(url);
  if (path !== null) return { address: path, secure: isSecureUrl(url), unix: true };
  return { address: hostPort(url) ?? url, secure: isSecureUrl(url) };
}

/**
 * The socket file of a unix:// or unixs:// URL: its host and path together, as clientv3
 * dials it — "unix://localhost:2379" is a file named "localhost:2379" in the working
 * directory (etcd's form), "unix:///run/etcd.sock" an absolute path (which etcd itself,
 * taking the host alone, cannot serve). null: not such a URL.
 */
export function unixSocketPath(url: string): string | null {
  const match = /^unixs?:\/\/([^/]*)(\/.*)?$/i.exec(url);
  if (match === null) return null;
  const host = match[1] ?? '';
  const path = match[2] ?? '';
  const socket = host + path;
  return socket === '' ? null : socket;
}

/** "127.0.0.1:2379" → ["127.0.0.1", 2379]; "[::1]:2379" → ["::1", 2379] (what node:net listens on). */
export function splitHostPort(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), Number(address.slice(colon + 1))];
}
