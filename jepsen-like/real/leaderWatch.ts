// The leader timeline: every member's Status, polled through the run, says when the
// cluster had an established leader and when leadership changed hands. The lease verdict
// needs it: a lease's clock can only move while a leader runs it, and each new leader
// extends every lease by an election timeout before it expires any (etcd's lessor
// `Promote`, Tern's the same), so the time a key may outlive its TTL is the leaderless
// time plus one election timeout per new leader, not a fixed figure.
//
// A leader is *established* at a poll when it answers claiming to lead at term T, a
// majority of all members (itself included) names it as leader, and the tool knows it
// can lead: it is not paused, and no partition has cut it off from a majority. (A cut-off
// leader still answers and its followers still name it until their election timeout
// runs out, but nothing it proposes commits: for a lease that is leaderless time.)

import { EtcdClient, statusOf, type MemberStatus } from './client.js';

export interface LeaderSample {
  /** Microseconds since the run started (the recorder's clock), when the poll round ended. */
  readonly at: number;
  /** The established leader's member id, or null. */
  readonly leader: string | null;
  readonly term: number;
}

/** At most this many samples are kept (a 10 Hz poll for over an hour). */
export const MAX_SAMPLES = 50_000;
const POLL_INTERVAL_MS = 100;
const STATUS_TIMEOUT_MS = 250;

/** The leader a majority of `n` members agrees on in one round of statuses, or null. */
export function establishedLeader(statuses: readonly (MemberStatus | null)[], canLead: (index: number) => boolean): { leader: string; term: number } | null {
  const n = statuses.length;
  const answered = statuses.filter((s): s is MemberStatus => s !== null);
  for (const [index, s] of statuses.entries()) {
    if (s === null || s.leader === '0' || s.leader !== s.memberId || !canLead(index)) continue;
    const backers = answered.filter((o) => o.leader === s.memberId && o.raftTerm === s.raftTerm).length;
    if (backers > n / 2) return { leader: s.memberId, term: s.raftTerm };
  }
  return null;
}

export class LeaderWatch {
  readonly samples: LeaderSample[] = [];
  private stopped = false;
  private readonly clients: EtcdClient[];
  private loop: Promise<void> = Promise.resolve();

  constructor(endpoints: readonly string[], private readonly now: () => number, private readonly canLead: (index: number) => boolean) {
    this.clients = endpoints.map((e) => new EtcdClient(e, STATUS_TIMEOUT_MS));
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    for (const c of this.clients) c.close();
  }

  private async run(): Promise<void> {
    while (!this.stopped && this.samples.length < MAX_SAMPLES) {
      const begun = this.now();
      const statuses = await Promise.all(this.clients.map((c) => statusOf(c, STATUS_TIMEOUT_MS)));
      const found = establishedLeader(statuses, (i) => this.canLead(i));
      this.samples.push({ at: this.now(), leader: found?.leader ?? null, term: found?.term ?? 0 });
      const spent = (this.now() - begun) / 1000;
      await new Promise((done) => { setTimeout(done, Math.max(0, POLL_INTERVAL_MS - spent)); });
    }
  }
}

/** What the timeline says about a window of time: leaderless microseconds and new leaders in it. */
export interface WindowLeadership {
  readonly leaderlessUs: number;
  readonly newLeaders: number;
}

/**
 * Leaderless time within [from, to]: the span between two polls counts as leaderless when
 * either poll saw no established leader (the generous reading: the bound grows, never
 * shrinks, with the poll's coarseness). A new leader is a sample whose established leader
 * has a higher term than every earlier one's.
 */
export function leadershipIn(samples: readonly LeaderSample[], from: number, to: number): WindowLeadership {
  let leaderlessUs = 0;
  let newLeaders = 0;
  let highestTerm = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    if (s === undefined) continue;
    const previous = samples[i - 1];
    if (s.leader !== null && s.term > highestTerm) {
      if (highestTerm > 0 && s.at > from && s.at <= to) newLeaders++;
      highestTerm = s.term;
    }
    if (previous !== undefined && (previous.leader === null || s.leader === null)) {
      const start = Math.max(from, previous.at);
      const end = Math.min(to, s.at);
      if (end > start) leaderlessUs += end - start;
    }
  }
  return { leaderlessUs, newLeaders };
}
