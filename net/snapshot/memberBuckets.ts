// etcd 3.4's `members` bucket: one key per member, its id in hex without leading zeros (types.ID.String()), in bbolt's byte order,
// whose value is Go's json.Marshal of membership.Member — `id` as a JSON number (the full
// uint64, so it is written from the bigint, not through a JS number), `peerURLs`, then
// `isLearner`, `name` and `clientURLs`, each left out when empty (Go's omitempty).
// `etcdctl snapshot status` counts these keys, and etcd's Hash covers them.

import type { MemberRecord } from '../../core/membership/members.js';
import type { KeyValues } from './bbolt.js';

export function membersBucket(members: readonly MemberRecord[]): KeyValues {
  return members
    .map((m) => [Buffer.from(m.id.toString(16)), Buffer.from(memberJson(m))] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]));
}

export function memberJson(m: MemberRecord): string {
  const parts = [`"id":${m.id.toString()}`, `"peerURLs":${JSON.stringify(m.peerUrls)}`];
  if (m.isLearner) parts.push('"isLearner":true');
  if (m.name !== '') parts.push(`"name":${JSON.stringify(m.name)}`);
  if (m.clientUrls.length > 0) parts.push(`"clientURLs":${JSON.stringify(m.clientUrls)}`);
  return `{${parts.join(',')}}`;
}
