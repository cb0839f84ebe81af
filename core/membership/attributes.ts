// A member's attributes (its name and client URLs) as it publishes them through Raft at
// start, as etcd does (etcdserver.publish: a request on /0/members/<id>/attributes that
// every member applies). Replicated state: every member lists the same names and URLs,
// a member that catches up by snapshot learns them from it, and etcd's
// --strict-reconfig-check counts a member as started once its name has applied.

import type { NodeId } from '../raft/types.js';
import { invariant } from '../util/invariant.js';

export interface MemberAttributes {
  /** The publishing member's core id (members.ts raftIdOf). */
  readonly raftId: NodeId;
  readonly name: string;
  readonly clientUrls: readonly string[];
}

/** Attribute records kept at most: far more than any cluster has members (etcd allows a few dozen). */
export const MAX_ATTRIBUTE_RECORDS = 1024;
/** Bounds on one record: etcd does not bound them, but an entry must not carry a novel. */
const MAX_NAME_BYTES = 1024;
const MAX_CLIENT_URLS = 64;

/** Whether a record is well formed (a proposer asserts it; apply ignores one that is not). */
export function validAttributes(a: MemberAttributes): boolean {
  return Number.isSafeInteger(a.raftId) && a.raftId > 0
    && typeof a.name === 'string' && a.name.length <= MAX_NAME_BYTES
    && Array.isArray(a.clientUrls) && a.clientUrls.length <= MAX_CLIENT_URLS && a.clientUrls.every((u) => typeof u === 'string');
}

export function assertAttributes(a: MemberAttributes): void {
  invariant(validAttributes(a), () => `malformed member attributes: ${JSON.stringify(a)}`);
}

/** The latest published attributes of each member, dropped when the member is removed. */
export class AttributeRecords {
  private readonly byId: Map<NodeId, MemberAttributes>;

  constructor(records: readonly MemberAttributes[] = []) {
    this.byId = new Map(records.map((r) => [r.raftId, r]));
  }

  /** An applied publish. Beyond the bound (a runaway proposer), the oldest record goes. */
  apply(attributes: MemberAttributes): void {
    this.byId.delete(attributes.raftId);
    this.byId.set(attributes.raftId, attributes);
    if (this.byId.size > MAX_ATTRIBUTE_RECORDS) {
      const oldest = this.byId.keys().next();
      if (oldest.done !== true) this.byId.delete(oldest.value);
    }
  }

  remove(raftId: NodeId): void {
    this.byId.delete(raftId);
  }

  get(raftId: NodeId): MemberAttributes | undefined {
    return this.byId.get(raftId);
  }

  all(): MemberAttributes[] {
    return [...this.byId.values()];
  }
}
