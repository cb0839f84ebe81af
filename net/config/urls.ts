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

/** Whether a listen URL serves TLS (etcd: https:// and unixs://). */
export function isSecureUrl(url: string): boolean {
  return /^(https|unixs):\/\//i.test(url);
}

/** A socket to listen on, and whether it speaks TLS. */
export interface ListenAddress {
  readonly address: string;
  readonly secure: boolean;
}

/** The listen address of an http:// or https:// URL. */
export function listenAddressOf(url: string): ListenAddress {
  return { address: hostPort(url) ?? url, secure: isSecureUrl(url) };
}

/** "127.0.0.1:2379" → ["127.0.0.1", 2379]; "[::1]:2379" → ["::1", 2379] (what node:net listens on). */
export function splitHostPort(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), Number(address.slice(colon + 1))];
}
