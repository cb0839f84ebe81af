// MemberInfo (peer.proto) ↔ MemberRecord.

import type { WireObject } from './codec.js';
import type { MemberRecord } from '../../core/membership/members.js';

export function memberToWire(m: MemberRecord): WireObject {
  return { id: m.id.toString(), name: m.name, peer_urls: m.peerUrls, client_urls: m.clientUrls, is_learner: m.isLearner };
}

export function memberFromWire(w: WireObject): MemberRecord {
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);
  const id = typeof w['id'] === 'string' && /^\d+$/.test(w['id']) ? BigInt(w['id']) : 0n;
  return {
    id, name: typeof w['name'] === 'string' ? w['name'] : '', peerUrls: strings(w['peer_urls']), clientUrls: strings(w['client_urls']),
    isLearner: w['is_learner'] === true,
  };
}
