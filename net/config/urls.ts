// etcd's URL flags name http://host:port URLs; grpc-js and node:net take the host and
// port apart. The conversions between the two.

/** "http://127.0.0.1:2379" → "127.0.0.1:2379" (what grpc-js binds); null if not such a URL. */
export function hostPort(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' || u.port === '') return null;
    return `${u.hostname}:${u.port}`;
  } catch {
    return null;
  }
}

/** "127.0.0.1:2379" → ["127.0.0.1", 2379]; "[::1]:2379" → ["::1", 2379] (what node:net listens on). */
export function splitHostPort(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), Number(address.slice(colon + 1))];
}
