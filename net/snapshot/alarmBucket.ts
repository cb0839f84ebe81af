// etcd 3.4's `alarm` bucket: one key per raised alarm, the etcdserverpb.AlarmMember as
// gogoproto marshals it (MemberID = 1 a uint64 varint, Alarm = 2 the enum, zero values
// left out), with an empty value — etcd keys the bucket by the alarm itself. So an
// `etcdctl snapshot restore` of a Tern image comes up with the same alarms raised.

import { ALARM_TYPES, type AlarmMember } from '../../core/server/alarms.js';
import type { KeyValues } from './bbolt.js';

export function alarmBucket(alarms: readonly AlarmMember[]): KeyValues {
  return alarms
    .map((a) => [marshalAlarmMember(a), Buffer.alloc(0)] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]));
}

export function marshalAlarmMember(a: AlarmMember): Buffer {
  const out: number[] = [];
  const member = BigInt(a.memberId);
  if (member !== 0n) out.push(0x08, ...uvarint(member));
  const type = ALARM_TYPES.indexOf(a.alarm); // NONE = 0, NOSPACE = 1, CORRUPT = 2
  if (type > 0) out.push(0x10, type);
  return Buffer.from(out);
}

/** A uint64 as a protobuf varint, from the bigint (etcd ids use all 64 bits). */
function uvarint(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
