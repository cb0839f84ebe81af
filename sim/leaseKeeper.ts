// Short-lived leases for the KV workload: granted with a TTL of a few seconds, some kept
// alive by their client (a keep-alive to the leader every third of the TTL, as clientv3
// does), the others left to lapse. Expiry is the leader's decision: it proposes a revoke
// through Raft, which deletes the lease's keys at a new revision.
//
// No client asked for that revoke, so the simulator writes it into the history itself
// (docs/history-format.md: "a server-initiated revision with no client op: record it as
// an op of a server process"): an ok `leaseRevoke` of a process of its own, invoked when
// the lease's grant was invoked (the leader can only propose it after the grant applied)
// and returning when a member first applies it (from then on clients can see it), with
// the revision the store is at right after it. A lease is revoked by the first revoke
// entry of it in log order — the first one any member applies — so later ones (a new
// leader proposing again) are ignored. Clients never revoke these leases themselves.
//
// An expiry that deleted no keys is left out of the history unless a put saw it ("lease
// not found" for that lease): nothing else can observe it (no key carries the lease,
// clients neither re-grant nor revoke it), so the real execution still linearizes the
// rest, and the checker's fast path, which must guess whether a revoke wrote (its
// response does not say), no longer guesses wrong for it.

import type { Entry, NodeId } from '../core/raft/types.js';
import type { EtcdServer } from '../core/server/server.js';
import { isEtcdError } from '../core/errors.js';
import { decodeEnvelope } from '../core/server/requests.js';
import { coreLeaseId, historyLeaseId } from './historyLeaseId.js';
import type { EtcdRequest, EtcdResponse } from '../jepsen-like/etcd/types.js';
import type { SimMember } from './cluster.js';
import { SimActor, type SimParts } from './simActor.js';

/** An op the cluster made on its own, for the history. */
export interface ServerOp {
  readonly call: number;
  readonly ret: number;
  readonly request: EtcdRequest;
  readonly response: EtcdResponse;
  readonly member: NodeId;
  /** What made it (kept in the history file for readers). */
  readonly note: string;
  /**
   * Set when the op wrote nothing (an expiry of a lease without keys): it may be left out
   * of the history unless some op saw its effect (a put answered "lease not found" for
   * this lease). See historyText in kvWorkload.ts.
   */
  readonly silentLease?: number;
}

interface ShortLease {
  readonly grantCallUs: number;
  readonly keepAlive: boolean;
  /** The TTL the server granted, µs (0 until the grant is answered). */
  ttlUs: number;
  /** When the client last heard the lease renewed (the grant's answer, then keep-alives). */
  renewedUs: number;
  /** Set once a member applied its revoke. */
  expired: boolean;
}

export interface LeaseKeeperSetup extends SimParts {
  /** Writes an expiry into the history. */
  readonly record: (op: ServerOp) => void;
}

export class LeaseKeeper extends SimActor {
  private readonly leases = new Map<number, ShortLease>();
  /** Each server's store revision after the last entry it applied (to tell whether a revoke wrote). */
  private readonly revisionAfter = new Map<EtcdServer, number>();
  private pending = 0;
  expiries = 0;
  keepAlives = 0;

  private readonly record: (op: ServerOp) => void;

  constructor(setup: LeaseKeeperSetup) {
    super(setup);
    this.record = setup.record;
  }

  /** A TTL for a new short lease, seconds (the server raises it to its minimum). */
  drawTtlSeconds(): number {
    return 1 + this.random.intBelow(3);
  }

  isShort(id: number): boolean {
    return this.leases.has(id);
  }

  /** A short lease is being granted (before the answer: an unknown grant may still expire). */
  granting(id: number): void {
    this.leases.set(id, { grantCallUs: this.scheduler.nowUs, keepAlive: this.random.chance(0.5), ttlUs: 0, renewedUs: 0, expired: false });
    this.pending++;
  }

  /** The grant was answered with the TTL the server chose: start keeping it alive, or not. */
  granted(id: number, ttlSeconds: number): void {
    const lease = this.leases.get(id);
    if (lease === undefined) return;
    lease.ttlUs = 1000 * 1000 * ttlSeconds;
    lease.renewedUs = this.scheduler.nowUs;
    if (!lease.keepAlive) return;
    const intervalUs = Math.max(1000, Math.round((1000 * 1000 * ttlSeconds) / 3));
    const keep = (): void => {
      if (lease.expired) return;
      this.keepAlive(id, lease);
      this.scheduler.after(intervalUs, { kind: 'client', node: 0, a: id, b: 1, run: keep });
    };
    this.scheduler.after(intervalUs, { kind: 'client', node: 0, a: id, b: 1, run: keep });
  }

  /** Every entry a member applied: the first applied revoke of a short lease is its expiry. */
  onApplied(member: SimMember, entry: Entry): void {
    const server = member.server;
    if (server === null) return;
    const before = this.revisionAfter.get(server);
    const after = server.machine.store.currentRevision();
    this.revisionAfter.set(server, after);
    if (this.pending === 0) return;
    const envelope = decodeEnvelope(entry.data);
    if (envelope?.request.kind !== 'leaseRevoke') return;
    // The clients' ids are small counters: a larger id (one a server drew) is none of them.
    if (envelope.request.id > BigInt(Number.MAX_SAFE_INTEGER) || envelope.request.id < 0n) return;
    const id = historyLeaseId(envelope.request.id);
    const lease = this.leases.get(id);
    if (lease === undefined || lease.expired) return;
    lease.expired = true;
    this.pending--;
    this.expiries++;
    // It wrote iff the store moved (unknown after a start or a snapshot: then it counts as written).
    const wrote = before === undefined || after !== before;
    this.record({
      call: lease.grantCallUs, ret: this.scheduler.nowUs, member: member.id, note: 'lease expiry',
      request: { type: 'leaseRevoke', id },
      response: { revision: after },
      ...(wrote ? {} : { silentLease: id }),
    });
  }

  /**
   * Whether a client should attach keys to this lease now: only while at least half its
   * TTL is left since it last heard it renewed. A put racing the expiry would get "lease
   * not found", which the checker's fast path cannot place after a revoke (it then falls
   * back to the exhaustive search); the race stays possible (a leader whose clock jumps
   * expires leases early), just rare. A workload choice: it does not make the check weaker.
   */
  usable(id: number): boolean {
    const lease = this.leases.get(id);
    if (lease === undefined) return true; // a long lease
    return !lease.expired && lease.ttlUs > 0 && this.scheduler.nowUs < lease.renewedUs + lease.ttlUs / 2;
  }

  /** Keep-alives go to the leader (etcd's followers forward them there). */
  private keepAlive(id: number, lease: ShortLease): void {
    let leader: SimMember | null = null;
    let term = -1;
    for (const nodeId of this.cluster.ids) {
      const m = this.cluster.member(nodeId);
      const status = m.state === 'up' ? m.server?.driver.status() : undefined;
      if (status?.role === 'leader' && status.hardState.term > term) {
        leader = m;
        term = status.hardState.term;
      }
    }
    if (leader === null) return;
    const target = leader;
    this.keepAlives++;
    const sentUs = this.scheduler.nowUs;
    this.cluster.runOn(target, () => {
      target.server?.leaseKeepAlive({ id: coreLeaseId(id) }, (answer) => {
        if (!isEtcdError(answer) && answer.ttlSeconds > 0) lease.renewedUs = Math.max(lease.renewedUs, sentUs);
      });
    }, false);
  }
}
