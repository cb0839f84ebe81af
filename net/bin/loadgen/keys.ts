// The load generator's key layout, shared by the gRPC and the gateway clients so that
// both write and read the same keys.

/** etcd's benchmark key layout: the key index as a zig-zag varint, padded to keySize bytes. */
export function keyBytes(index: number, keySize: number): Buffer {
  const key = Buffer.alloc(keySize);
  let v = index * 2;
  let i = 0;
  while (v >= 0x80 && i < keySize) {
    key[i++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  if (i < keySize) key[i] = v;
  return key;
}

/** The key of operation n: the next in order, or uniformly drawn from the key space. */
export function keyIndex(sequential: boolean, n: number, keySpace: number): number {
  return sequential ? n % keySpace : Math.floor(Math.random() * keySpace);
}
