// The lease workload: workers grant leases, attach one key to each, keep the lease alive
// for a while, then stop; observers read the lease keys over and over. The verdict
// compares when each key was seen gone with the bounds its lease allows:
//
//   lower = (send time of the last acknowledged keep-alive, or of the grant) + TTL
//   upper = (receive time of that keep-alive, or of the grant) + TTL + slack
//           + the leaderless time in [that time, upper]
//           + one election timeout per new leader in [that time, upper]
//
// A key seen absent by a read that returned before `lower` vanished early; a key seen
// present by a read invoked after `upper` outlived its lease. The leader terms are what a
// leader change is allowed (leaderWatch.ts measures them): no lease clock runs without a
// leader, and a new leader extends every lease by an election timeout before it expires
// any (etcd's lessor `Promote`). The fixed slack covers the rest: the lessor looks for
// expired leases every 500 ms, Tern's leader checkpoints its lease clock every 500 ms (a
// new leader resumes from the last one), and the poll sees a leader change up to a poll
// late; 2 s by default (--election-slack-ms). etcd 3.4's #9395 exceeds it: a new leader
// restarts every lease from its full TTL, so a key outlives its lease by what had elapsed.
//
// The grants, puts and reads go into the history with the kv workload's ops (a lease's
// expiry is a server-made revision: it enters as an unknown-outcome revoke by a process
// of its own, which the checker may place anywhere after the grant, or nowhere).

import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { EtcdResponse, RequestOp } from '../etcd/types.js';
import { bytes, keyValue, num, revisionOf, type Wire } from './client.js';
import type { HistoryRecord } from './recorder.js';
import { leadershipIn, type LeaderSample } from './leaderWatch.js';
import { invoke, type Worker } from './worker.js';

export const LEASE_PREFIX = 'lease/';
const LEASE_PREFIX_END = 'lease0';

export interface LeaseFinding {
  readonly lease: string;
  readonly key: string;
  /** Microseconds since the start. */
  readonly at: number;
  readonly detail: string;
}

/** What a key may outlive its TTL by: a fixed slack and the leader changes the run saw. */
export interface LeaseSlack {
  readonly slackMs: number;
  /** Each new leader's extension of every lease. */
  readonly electionTimeoutMs: number;
  /** The leader timeline (it grows while the run goes on). */
  readonly leaders: readonly LeaderSample[];
}

export interface LeaseVerdict {
  readonly ok: boolean;
  readonly leases: number;
  readonly ttlS: number;
  readonly slackMs: number;
  readonly electionTimeoutMs: number;
  readonly outlived: readonly LeaseFinding[];
  readonly early: readonly LeaseFinding[];
  /** Leases no read looked at after their upper bound (the run ended first). */
  readonly undecided: number;
}

/** One lease as its worker saw it (times in microseconds since the start). */
export interface LeaseLife {
  readonly id: string;
  readonly alias: number;
  readonly key: string;
  readonly ttlS: number;
  readonly grantCall: number;
  readonly grantReturn: number;
  /** When the put of its key was acknowledged; null when the put's outcome is unknown or it failed. */
  putAck: number | null;
  lastKeepAliveSent: number | null;
  lastKeepAliveAcked: number | null;
  /**
   * A keep-alive that got no answer may still have reached the leader, up to when its
   * stream was cancelled: the latest such cancel time.
   */
  lastKeepAliveUnanswered: number | null;
  /** A keep-alive answered TTL 0 (the lease was gone) at this time. */
  goneAt: number | null;
  /** Every keep-alive sent for it, for `DIR/leases.jsonl` (at most one per third of a TTL while kept alive). */
  readonly keepAlives: KeepAliveRecord[];
}

/**
 * One keep-alive as the worker saw it: who answered (the response header's member and
 * term) is what tells whether a stale leader renewed a lease the cluster then expired.
 */
export interface KeepAliveRecord {
  readonly sent: number;
  /** When the answer came; null when none came within the deadline. */
  readonly answered: number | null;
  readonly ttl: number | null;
  /** The answering member's id (decimal text) and Raft term, from the response header. */
  readonly memberId: string | null;
  readonly raftTerm: number | null;
}

export interface LeaseWorker extends Worker {
  stream: ClientDuplexStream<Wire, Wire> | null;
  readonly waiting: Map<string, (answer: Wire) => void>;
}

const KEEPALIVE_TIMEOUT_MS = 1000;
const sleep = (ms: number): Promise<void> => new Promise((done) => { setTimeout(done, ms); });

/** A lease the server granted: its id (decimal text), the history's alias, its TTL and the call's times. */
export interface Granted {
  readonly id: string;
  readonly alias: number;
  readonly ttlS: number;
  readonly call: number;
  readonly ret: number;
}

/** LeaseGrant, recorded in the history when it is answered; null when it was not. */
export async function grantLease(w: Worker, ttlS: number): Promise<Granted | null> {
  const call = w.recorder.now();
  let wire: Wire;
  try {
    wire = await w.client.call('lease', 'LeaseGrant', { TTL: String(ttlS) });
  } catch {
    await sleep(100); // an unknown grant makes no revision and no key: it needs no record
    return null;
  }
  const id = typeof wire['ID'] === 'string' ? wire['ID'] : '0';
  const alias = w.recorder.leaseAlias(id);
  const ret = w.recorder.now();
  w.recorder.add({ process: w.process, client: w.name, call, return: ret, outcome: 'ok', request: { type: 'leaseGrant', id: alias }, response: { revision: revisionOf(wire) } });
  return { id, alias, ttlS: num(wire['TTL']), call, ret };
}

async function grant(w: LeaseWorker, ttlS: number): Promise<LeaseLife | null> {
  const g = await grantLease(w, ttlS);
  if (g === null) return null;
  return {
    id: g.id, alias: g.alias, key: `${LEASE_PREFIX}${w.name}/${g.alias}`, ttlS: g.ttlS, grantCall: g.call, grantReturn: g.ret,
    putAck: null, lastKeepAliveSent: null, lastKeepAliveAcked: null, lastKeepAliveUnanswered: null, goneAt: null, keepAlives: [],
  };
}

async function putKey(w: LeaseWorker, life: LeaseLife): Promise<void> {
  const op: RequestOp = { type: 'put', key: life.key, value: `${life.key}@${life.id}`, lease: life.alias, prevKv: true };
  const wire = await invoke(w, {
    request: op,
    send: () => w.client.call('kv', 'Put', { key: bytes(op.key), value: bytes(op.value), lease: life.id, prev_kv: true }),
    response: (r): EtcdResponse => ({ revision: revisionOf(r) }),
  });
  if (wire !== null) life.putAck = w.recorder.now();
}

function openStream(w: LeaseWorker): ClientDuplexStream<Wire, Wire> {
  if (w.stream !== null) return w.stream;
  const stream = w.client.keepAliveStream();
  stream.on('data', (r: Wire) => {
    const id = typeof r['ID'] === 'string' ? r['ID'] : '0';
    w.waiting.get(id)?.(r);
    w.waiting.delete(id);
  });
  const reset = (): void => { if (w.stream === stream) w.stream = null; };
  stream.on('error', reset);
  stream.on('end', reset);
  w.stream = stream;
  return stream;
}

/** One keep-alive: its answer (TTL 0: the lease is gone), or null when none came within the deadline. */
function keepAliveOnce(w: LeaseWorker, id: string, timeoutMs: number): Promise<Wire | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { w.waiting.delete(id); w.stream?.cancel(); w.stream = null; resolve(null); }, timeoutMs);
    w.waiting.set(id, (answer) => { clearTimeout(timer); resolve(answer); });
    openStream(w).write({ ID: id });
  });
}

/** Keeps the lease alive for `forMs` (a keep-alive every third of its TTL), then stops. */
async function keepAlive(w: LeaseWorker, life: LeaseLife, forMs: number, stop: () => boolean): Promise<void> {
  const until = w.recorder.now() + forMs * 1000;
  while (w.recorder.now() < until && !stop()) {
    await sleep((life.ttlS * 1000) / 3);
    const sent = w.recorder.now();
    const answer = await keepAliveOnce(w, life.id, KEEPALIVE_TIMEOUT_MS);
    if (answer === null) {
      life.lastKeepAliveUnanswered = w.recorder.now();
      life.keepAlives.push({ sent, answered: null, ttl: null, memberId: null, raftTerm: null });
      continue;
    }
    const ttl = num(answer['TTL']);
    const header = answer['header'] as Wire | undefined;
    const memberId = header?.['member_id'];
    life.keepAlives.push({
      sent, answered: w.recorder.now(), ttl,
      memberId: typeof memberId === 'string' || typeof memberId === 'number' ? String(memberId) : null,
      raftTerm: header?.['raft_term'] === undefined ? null : num(header['raft_term']),
    });
    if (ttl === 0) { life.goneAt = w.recorder.now(); return; }
    life.lastKeepAliveSent = sent;
    life.lastKeepAliveAcked = w.recorder.now();
  }
}

export interface LeaseRunOptions {
  readonly ttlS: number;
  readonly stop: () => boolean;
  readonly lives: LeaseLife[];
}

/**
 * One lease worker's loop: grant, attach a key, keep alive for 0..1 TTL, let go, again.
 * Kept alive, a lease is never older than a third of its TTL; let go, it ages to its TTL:
 * that is when a leader change that restarts TTLs shows.
 */
export async function driveLeases(w: LeaseWorker, options: LeaseRunOptions): Promise<void> {
  while (!options.stop()) {
    const life = await grant(w, options.ttlS);
    if (life === null) continue;
    options.lives.push(life);
    await putKey(w, life);
    await keepAlive(w, life, w.rng.between(0, life.ttlS * 1000), options.stop);
  }
  w.stream?.cancel();
}

/** An observer: reads every lease key, over and over, until `stop`. */
export async function observeLeases(w: Worker, stop: () => boolean): Promise<void> {
  const request: RequestOp = { type: 'range', key: LEASE_PREFIX, rangeEnd: LEASE_PREFIX_END };
  while (!stop()) {
    await invoke(w, {
      request,
      send: () => w.client.call('kv', 'Range', { key: bytes(LEASE_PREFIX), range_end: bytes(LEASE_PREFIX_END) }),
      response: (r) => {
        const kvs = ((r['kvs'] ?? []) as unknown[]).map((x) => ({ ...keyValue(x, (id) => w.recorder.leaseAlias(id)) }));
        return { revision: revisionOf(r), kvs, count: num(r['count']) };
      },
    });
    await sleep(100 + w.rng.intBelow(100));
  }
}

/** When every lease's upper bound has passed (the observers may stop after it). */
export function lastUpperBound(lives: readonly LeaseLife[], slack: LeaseSlack): number {
  return Math.max(0, ...lives.map((l) => upperOf(l, slack).upper));
}

function lowerOf(l: LeaseLife): number {
  return (l.lastKeepAliveSent ?? l.grantCall) + l.ttlS * 1e6;
}

interface UpperBound {
  readonly upper: number;
  /** The TTL's end, before any slack. */
  readonly expected: number;
  readonly leaderlessUs: number;
  readonly newLeaders: number;
}

/** Bounded: each round can only add leaderless time and leaders found in the longer window. */
const MAX_BOUND_ROUNDS = 32;

export function upperOf(l: LeaseLife, slack: LeaseSlack): UpperBound {
  const anchor = Math.max(l.lastKeepAliveAcked ?? l.grantReturn, l.lastKeepAliveUnanswered ?? 0);
  const expected = anchor + l.ttlS * 1e6;
  let bound: UpperBound = { upper: expected + slack.slackMs * 1000, expected, leaderlessUs: 0, newLeaders: 0 };
  for (let round = 0; round < MAX_BOUND_ROUNDS; round++) {
    const w = leadershipIn(slack.leaders, anchor, bound.upper);
    const upper = expected + slack.slackMs * 1000 + w.leaderlessUs + w.newLeaders * slack.electionTimeoutMs * 1000;
    if (upper <= bound.upper) break;
    bound = { upper, expected, leaderlessUs: w.leaderlessUs, newLeaders: w.newLeaders };
  }
  return bound;
}

/** The unknown-outcome revokes standing for the server's expiries (one process each). */
export function expiryRecords(lives: readonly LeaseLife[], newProcess: () => number): HistoryRecord[] {
  return lives.map((l) => ({ process: newProcess(), client: 'lessor', call: l.grantCall, return: null, outcome: 'unknown', request: { type: 'leaseRevoke', id: l.alias } }));
}

interface Observation {
  readonly call: number;
  readonly ret: number;
  readonly present: ReadonlySet<string>;
}

function observations(records: readonly HistoryRecord[]): Observation[] {
  return records
    .filter((r) => r.outcome === 'ok' && r.return !== null && r.request.type === 'range' && r.request.key === LEASE_PREFIX)
    .map((r) => ({ call: r.call, ret: r.return ?? r.call, present: new Set(((r.response?.['kvs'] ?? []) as { key?: string }[]).map((kv) => kv.key ?? '')) }));
}

const ms = (us: number): string => `${(us / 1000).toFixed(0)} ms`;

/** Judges every lease against what the observers saw. */
export function judgeLeases(lives: readonly LeaseLife[], records: readonly HistoryRecord[], options: { ttlS: number } & LeaseSlack): LeaseVerdict {
  const seen = observations(records);
  const outlived: LeaseFinding[] = [];
  const early: LeaseFinding[] = [];
  let undecided = 0;
  for (const l of lives) {
    const lower = lowerOf(l);
    const { upper, expected, leaderlessUs, newLeaders } = upperOf(l, options);
    const allowed = `slack ${options.slackMs} ms + ${ms(leaderlessUs)} leaderless + ${newLeaders} new leader${newLeaders === 1 ? '' : 's'} x ${options.electionTimeoutMs} ms`;
    // Marked where it first showed (the first read past the bound), measured by the last.
    const late = seen.filter((o) => o.call > upper && o.present.has(l.key));
    const [firstLate, tooLate] = [late[0], late.at(-1)];
    if (firstLate !== undefined && tooLate !== undefined) {
      outlived.push({ lease: l.id, key: l.key, at: firstLate.call, detail: `still there ${ms(tooLate.call - expected)} after its TTL of ${l.ttlS} s ran out (allowed: ${allowed})` });
    }
    const putAck = l.putAck;
    const tooSoon = putAck === null ? undefined : seen.find((o) => o.call > putAck && o.ret < lower && !o.present.has(l.key));
    if (tooSoon !== undefined) early.push({ lease: l.id, key: l.key, at: tooSoon.ret, detail: `gone ${ms(lower - tooSoon.ret)} before its TTL of ${l.ttlS} s ran out` });
    if (l.goneAt !== null && l.goneAt < lower) {
      early.push({ lease: l.id, key: l.key, at: l.goneAt, detail: `a keep-alive found it gone ${ms(lower - l.goneAt)} before its TTL ran out` });
    }
    if (tooLate === undefined && !seen.some((o) => o.call > upper)) undecided++;
  }
  return {
    ok: outlived.length === 0 && early.length === 0, leases: lives.length, ttlS: options.ttlS, slackMs: options.slackMs,
    electionTimeoutMs: options.electionTimeoutMs, outlived, early, undecided,
  };
}
