// How a member's Membership follows the replicated state, the same in net/ and sim/:
// conf-change entries as they apply (also while the log is replayed at start), the
// members a restored snapshot holds, and the attributes members publish.

import { decodeConfChange } from '../raft/confchange.js';
import type { Entry } from '../raft/types.js';
import type { EtcdServer } from '../server/server.js';
import type { MemberAttributes } from './attributes.js';
import { decodeContext, decodeContextBytes, type ConfChangeContext, type MemberRecord, type Membership } from './members.js';

/** The member record a conf-change entry carries, or null (not a conf change, or no record). */
export function confChangeContextOf(entry: Entry): ConfChangeContext | null {
  if (entry.type !== 'confChange') return null;
  const change = decodeConfChange(entry.data);
  return change === null ? null : decodeContext(change);
}

/** Published attributes applied: the named member (if it is one) takes them. */
export function adoptAttributes(membership: Membership, attributes: MemberAttributes): void {
  const known = membership.byRaftId(attributes.raftId);
  if (known !== undefined) membership.learnAttributes(known.id, attributes.name, attributes.clientUrls);
}

/** The members a restored snapshot holds (etcd keeps them in its backend; Tern in the state machine's image). */
export function adoptSnapshotMembers(membership: Membership, server: EtcdServer): void {
  const records: MemberRecord[] = [];
  for (const context of server.machine.memberContexts().values()) {
    const decoded = decodeContextBytes(context);
    if (decoded !== null) records.push(decoded.member);
  }
  const { voters, learners } = server.driver.status().confState;
  membership.adoptSnapshot(records, (raftId) => voters.includes(raftId) || learners.includes(raftId));
  for (const attributes of server.machine.attributes.all()) adoptAttributes(membership, attributes);
}
