// etcd's member and cluster ids, computed as etcd computes them, so that tools
// comparing ids see what they would with etcd:
//   member id  = first 8 bytes (big-endian) of SHA-1(sorted peer URLs joined + cluster token)
//   cluster id = first 8 bytes of SHA-1(the sorted member ids, 8 bytes big-endian each)

import { createHash } from 'node:crypto';

export function memberId(peerUrls: readonly string[], clusterToken: string): bigint {
  const hash = createHash('sha1').update([...peerUrls].sort().join('') + clusterToken).digest();
  return hash.readBigUInt64BE(0);
}

export function clusterId(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bytes = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => bytes.writeBigUInt64BE(id, 8 * i));
  return createHash('sha1').update(bytes).digest().readBigUInt64BE(0);
}
