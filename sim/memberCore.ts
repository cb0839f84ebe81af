// A simulated member's membership machinery: the same core objects a net/ member runs
// (core/membership: the Membership it follows from the log, the Reconfigurer that
// turns MemberAdd/Remove/Promote into conf changes, the LeaderForwarding that takes a
// client's keep-alive to the leader, the AttributePublisher), bound to
// the member's simulated clock. Built at every (re)start, as a process builds them; a
// member's records come back from its log and snapshot, as in net/.
//
// Simulated members' etcd ids are their core ids shifted left by 11 bits, so that
// members.ts raftIdOf gives the core id back, and their peer URLs name the id
// (`http://m7:2380`), so that an added member's id follows from its URL.

import type { MemberAttributes } from '../core/membership/attributes.js';
import { adoptAttributes, adoptSnapshotMembers, confChangeContextOf } from '../core/membership/adopt.js';
import { LeaderForwarding, type LeaderLink } from '../core/membership/leaderForwarding.js';
import { Membership, type MemberRecord } from '../core/membership/members.js';
import { AttributePublisher } from '../core/membership/publisher.js';
import { Reconfigurer } from '../core/membership/reconfig.js';
import type { Clock } from '../core/node/ports.js';
import type { Entry, NodeId } from '../core/raft/types.js';
import type { EtcdServer } from '../core/server/server.js';
import { invariant } from '../core/util/invariant.js';

/** The cluster id simulated memberships carry (any constant: one cluster per run). */
const SIM_ETCD_CLUSTER_ID = 0x7e51n;
const PEER_URL = /^http:\/\/m(\d+):2380$/;

export function simEtcdId(id: NodeId): bigint {
  return BigInt(id) << 11n;
}

export function simPeerUrl(id: NodeId): string {
  return `http://m${id}:2380`;
}

/** The record of a member of the initial cluster (its name is set, as --initial-cluster sets it). */
export function initialRecord(id: NodeId): MemberRecord {
  return { id: simEtcdId(id), name: `m${id}`, peerUrls: [simPeerUrl(id)], clientUrls: [`http://m${id}:2379`], isLearner: false };
}

export interface MemberCoreOptions {
  readonly id: NodeId;
  readonly clock: Clock;
  /** The cluster as this member knew it when it first started (its "members file"). */
  readonly records: readonly MemberRecord[];
  /** etcd's request timeout for this run's election timeout. */
  readonly timeoutMs: number;
  /** How this member reaches the leader (sim/leaderLink.ts). */
  readonly link: LeaderLink;
}

export class SimMemberCore {
  readonly membership: Membership;
  private reconfigurer: Reconfigurer | null = null;
  private publisher: AttributePublisher | null = null;
  private leaderForwarding: LeaderForwarding | null = null;

  constructor(private readonly options: MemberCoreOptions) {
    this.membership = new Membership(SIM_ETCD_CLUSTER_ID, simEtcdId(options.id), options.records, null);
  }

  get reconfig(): Reconfigurer {
    invariant(this.reconfigurer !== null, 'the member core is bound to a server before it is used');
    return this.reconfigurer;
  }

  get forwarding(): LeaderForwarding {
    invariant(this.leaderForwarding !== null, 'the member core is bound to a server before it is used');
    return this.leaderForwarding;
  }

  /** Whether the member is in its own membership (false once it applied its removal). */
  get isMember(): boolean {
    return this.membership.get(this.membership.selfId) !== undefined;
  }

  /** The server started (it has replayed its log): adopt its snapshot's members and start the machinery. */
  bind(server: EtcdServer): void {
    adoptSnapshotMembers(this.membership, server);
    const self = this.options.id;
    const forwarding = new LeaderForwarding({
      server, membership: this.membership, link: this.options.link, clock: this.options.clock, timeoutMs: this.options.timeoutMs,
    });
    this.leaderForwarding = forwarding;
    this.reconfigurer = new Reconfigurer({
      driver: server.driver, membership: this.membership, clock: this.options.clock, timeoutMs: this.options.timeoutMs,
      newMemberId: (peerUrls) => simEtcdId(Number(PEER_URL.exec(peerUrls[0] ?? '')?.[1] ?? 0)),
      validPeerUrl: (url) => PEER_URL.test(url),
      // The simulated network has no streams to time: no health check (net/ runs it).
      learnerReady: (id, done) => { forwarding.learnerReady(id, done); },
    });
    this.publisher = new AttributePublisher({ server, name: `m${self}`, clientUrls: [`http://m${self}:2379`], onPublished: () => undefined });
  }

  /** Every entry the member applies (also while it replays its log at start). */
  onApplied(entry: Entry): void {
    const change = confChangeContextOf(entry);
    if (change === null) return;
    this.membership.apply(change);
    this.reconfigurer?.settle(change);
  }

  onAttributes(attributes: MemberAttributes): void {
    adoptAttributes(this.membership, attributes);
  }

  onRestore(server: EtcdServer): void {
    adoptSnapshotMembers(this.membership, server);
  }

  /** The member's tick: deadlines of waiting changes, and the publish loop. */
  tick(): void {
    this.reconfigurer?.expire();
    this.leaderForwarding?.expire();
    this.publisher?.tick();
  }
}
