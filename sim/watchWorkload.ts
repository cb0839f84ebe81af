// Watch clients for the KV workload, shaped like etcd's robustness traffic: each
// client keeps one watch on a range of the workload's keys (all of them, one key, or
// a prefix), some with prev_kv, some with progress notifications, from "now" or from
// a past revision, and asks for progress now and then. What a member sends reaches the
// client after a simulated network delay, in order (a gRPC stream is one TCP stream).
//
// A stream breaks when its member crashes (the server it was opened on is gone) or has
// had no leader for two health checks in a row (clientv3's WithRequireLeader, which
// etcd's robustness clients use). The client then watches again, on another member,
// from the revision after the last one its stream vouched for (its last event or
// progress notification; for a watch from "now", the created response's header), as
// clientv3 resumes. A watch canceled for compaction is re-opened from the compact
// revision, as a client that accepts the gap does. Now and then a client also starts
// over from a random past revision (a re-list), which is what meets compaction.
//
// Every stream is recorded in the watch validator's format (jepsen-like/watch), with
// the model's revisions, and judged at the end against the committed changes
// (watchTruth.ts).

import type { NodeId } from '../core/raft/types.js';
import { fromKey, toKey } from '../core/mvcc/keys.js';
import type { KeyValue as CoreKeyValue } from '../core/mvcc/types.js';
import type { EtcdServer } from '../core/server/server.js';
import type { WatchStream as ServerStream } from '../core/server/watchStreams.js';
import type { WatchResponse as CoreResponse } from '../core/watch/watchHub.js';
import type { KeyValue } from '../jepsen-like/etcd/types.js';
import type { RecordedEvent, WatchRequest, WatchResponse, WatchStream, WatchViolation } from '../jepsen-like/watch/validate.js';
import { validateWatches } from '../jepsen-like/watch/validate.js';
import type { SimMember } from './cluster.js';
import { SimActor, type SimParts } from './simActor.js';
import type { WatchTruth } from './watchTruth.js';
import { historyLeaseId } from './historyLeaseId.js';
import { PREFIX_END, PREFIX_START } from './kubernetesTraffic.js';

/** The watch clients' shape, drawn from the seed after the KV shape (world.ts). */
export interface WatchWorkloadOptions {
  readonly clients: number;
  /** Mean time between a client's health checks (which may ask for progress), ms. */
  readonly checkMeanMs: number;
  /** Mean one-way delay from a member to a watch client, ms. */
  readonly latencyMeanMs: number;
  /**
   * At a health check, how likely the client stops reading its stream for a while (a
   * congested connection, etcd #17529's setting): the member's responses wait in its
   * watch hub, whose bound turns the watcher into a catching-up one.
   */
  readonly slowProbability: number;
  /** Mean time a slow client does not read, ms. */
  readonly slowMeanMs: number;
  /** The members' watch hub bounds (watchHub.ts), drawn small so that slow watchers overflow. */
  readonly maxBufferedEvents: number;
  readonly catchUpRevisionsPerStep: number;
  /** The Kubernetes profile: every client watches the prefix, with prev_kv and progress notifications, as kube-apiserver does. */
  readonly kubernetes?: boolean;
}

/** One watch stream as recorded: the validator's fields plus where and when. */
export interface RecordedStream extends WatchStream {
  readonly client: number;
  readonly member: NodeId;
  readonly openedUs: number;
  closedUs: number | null;
  closeReason: string;
  /** Set when the created response arrives (a stream without one is not judged). */
  createdRevision: number;
  created: boolean;
  readonly responses: WatchResponse[];
}

interface WatchSpec {
  readonly key: string;
  readonly rangeEnd: string;
  readonly prevKv: boolean;
  readonly progressNotify: boolean;
}

interface Open {
  readonly member: SimMember;
  readonly server: EtcdServer;
  readonly stream: ServerStream;
  readonly record: RecordedStream;
  /** Deliveries are kept in order: none is scheduled before the previous one. */
  lastDeliveryUs: number;
  leaderlessChecks: number;
  /** The client reads nothing from the stream until then (virtual µs). */
  slowUntilUs: number;
}

interface WatchClient {
  readonly id: number;
  readonly spec: WatchSpec;
  /** Tern revision to watch from next; 0 = from now. */
  nextStart: number;
  open: Open | null;
}

const REOPEN_MEAN_MS = 50;
const PROGRESS_REQUEST_PROBABILITY = 0.3;
/**
 * At a health check, how often a client drops its watch and watches again from a random
 * past revision (as a Kubernetes reflector re-lists): old start revisions are what meet
 * compaction, so this is what exercises the compaction cancel.
 */
const RESTART_FROM_PAST_PROBABILITY = 0.03;

export interface WatchWorkloadSetup extends SimParts {
  /** The committed changes the streams are judged against (fed by the members' stores). */
  readonly truth: WatchTruth;
  /** The shape the seed drew (world.ts drawKvDraws). */
  readonly options: WatchWorkloadOptions;
  /** How many keys the KV workload writes (k0, k1, …): what the watches cover. */
  readonly keyCount: number;
}

export class WatchWorkload extends SimActor {
  readonly streams: RecordedStream[] = [];
  /** The highest compact revision (Tern's) a member had when it sent a stream responses. */
  private compactRevisionSeen = 0;
  private readonly clients: WatchClient[] = [];
  private running = false;

  readonly options: WatchWorkloadOptions;
  private readonly truth: WatchTruth;

  constructor(setup: WatchWorkloadSetup) {
    super(setup);
    this.truth = setup.truth;
    this.options = setup.options;
    for (let i = 0; i < setup.options.clients; i++) {
      this.clients.push({ id: i, spec: this.drawSpec(setup.keyCount), nextStart: 0, open: null });
    }
  }

  private drawSpec(keyCount: number): WatchSpec {
    const shape = this.random.intBelow(4);
    const k = this.random.intBelow(keyCount);
    // All keys k…, one key, or the prefix k<d> (k1 covers k1 only with fewer than 11 keys).
    const [key, rangeEnd] = shape <= 1 ? ['k', 'l'] : shape === 2 ? [`k${k}`, ''] : [`k${k}`, `k${k + 1}`];
    const prevKv = this.random.chance(0.5);
    const progressNotify = this.random.chance(0.5);
    if (this.options.kubernetes === true) return { key: PREFIX_START, rangeEnd: PREFIX_END, prevKv: true, progressNotify: true };
    return { key, rangeEnd, prevKv, progressNotify };
  }

  start(): void {
    this.running = true;
    for (const client of this.clients) {
      // Half the clients start from a past revision (once there is one), half from now.
      const fromPast = this.random.chance(0.5);
      this.scheduler.after(1000 * this.random.exponential(200), {
        kind: 'watch', node: 0, a: client.id,
        run: () => {
          const last = this.truth.lastRevision();
          if (fromPast && last >= 2) client.nextStart = 2 + this.random.intBelow(last - 1);
          this.openStream(client);
        },
      });
      this.scheduleCheck(client);
    }
  }

  /** The run is over: every stream closes (what is still in flight is lost). */
  stop(): void {
    this.running = false;
    for (const client of this.clients) this.close(client, 'end of run');
  }

  /** Streams the validator can judge: those whose created response arrived. */
  judged(): RecordedStream[] {
    return this.streams.filter((s) => s.created);
  }

  validate(): WatchViolation[] {
    return validateWatches(this.truth.log(), this.judged(), { compactRevision: this.compactRevisionSeen });
  }

  private openStream(client: WatchClient): void {
    if (!this.running || client.open !== null) return;
    const candidates: SimMember[] = [];
    for (const id of this.cluster.ids) {
      const m = this.cluster.member(id);
      if (m.state === 'up' && m.server !== null) candidates.push(m);
    }
    const member = candidates.length === 0 ? null : (candidates[this.random.intBelow(candidates.length)] ?? null);
    const server = member?.server ?? null;
    if (member === null || server === null) {
      this.scheduleReopen(client);
      return;
    }
    const { spec } = client;
    const request: WatchRequest = {
      key: spec.key, ...(spec.rangeEnd === '' ? {} : { rangeEnd: spec.rangeEnd }),
      ...(client.nextStart > 0 ? { startRevision: client.nextStart } : {}),
      ...(spec.prevKv ? { prevKv: true } : {}),
    };
    const record: RecordedStream = {
      client: client.id, member: member.id, openedUs: this.scheduler.nowUs, closedUs: null, closeReason: '',
      request, createdRevision: 0, created: false, responses: [],
    };
    this.streams.push(record);
    const open: Open = {
      member, server, record, lastDeliveryUs: this.scheduler.nowUs, leaderlessChecks: 0, slowUntilUs: 0,
      stream: server.openWatchStream((responses) => { this.send(client, open, responses); }, () => this.scheduler.nowUs >= open.slowUntilUs),
    };
    client.open = open;
    open.stream.watch({
      key: fromKey(spec.key), ...(spec.rangeEnd === '' ? {} : { rangeEnd: fromKey(spec.rangeEnd) }),
      ...(client.nextStart > 0 ? { startRevision: client.nextStart } : {}),
      ...(spec.prevKv ? { prevKv: true } : {}), ...(spec.progressNotify ? { progressNotify: true } : {}),
    });
  }

  /** A member sent responses: they reach the client after the link's delay, in order. */
  private send(client: WatchClient, open: Open, responses: readonly CoreResponse[]): void {
    // A compaction may have removed an event's prev_kv before the member read it (etcd too).
    this.compactRevisionSeen = Math.max(this.compactRevisionSeen, open.server.machine.store.compactRevision());
    // Converted now: what the member sent, whatever happens to its buffers later.
    const converted = responses.map((r) => this.convert(r, client.spec.prevKv));
    const now = this.scheduler.nowUs;
    const at = Math.max(open.lastDeliveryUs, now + Math.round(1000 * this.random.exponential(this.options.latencyMeanMs)));
    open.lastDeliveryUs = at;
    this.scheduler.after(at - now, {
      kind: 'watchDeliver', node: open.member.id, a: client.id, b: converted.length,
      run: () => { if (client.open === open) this.receive(client, open, converted); },
    });
  }

  private receive(client: WatchClient, open: Open, responses: readonly Received[]): void {
    const { record } = open;
    for (const r of responses) {
      if (r.created && !r.canceled) {
        record.created = true;
        record.createdRevision = r.revision;
        if (client.nextStart === 0) client.nextStart = r.revision + 1;
        continue;
      }
      if (r.canceled) {
        if (record.created) record.responses.push({ revision: r.revision, events: [], canceled: true, compactRevision: r.compactRevision });
        // Compacted: the client accepts the gap and watches again from the compact revision.
        if (r.compactRevision > 0) client.nextStart = Math.max(client.nextStart, r.compactRevision);
        this.close(client, r.compactRevision > 0 ? `canceled: compacted at ${r.compactRevision}` : 'canceled');
        this.scheduleReopen(client);
        return;
      }
      if (r.events.length === 0) {
        record.responses.push({ revision: r.revision, events: [], progress: true });
        client.nextStart = Math.max(client.nextStart, r.revision + 1);
        continue;
      }
      record.responses.push({ revision: r.revision, events: r.events });
      const last = r.events[r.events.length - 1]?.kv.modRevision ?? 0;
      client.nextStart = Math.max(client.nextStart, last + 1);
    }
  }

  private convert(r: CoreResponse, prevKv: boolean): Received {
    return {
      revision: r.revision, created: r.created, canceled: r.canceled, compactRevision: r.compactRevision,
      events: r.events.map((e): RecordedEvent => ({
        type: e.type, kv: modelKv(e.kv), ...(prevKv ? { prevKv: e.prevKv === null ? null : modelKv(e.prevKv) } : {}),
      })),
    };
  }

  /** Health check: is the stream's member still there and does it know a leader? Maybe ask for progress. */
  private scheduleCheck(client: WatchClient): void {
    this.scheduler.after(1000 * this.random.exponential(this.options.checkMeanMs), {
      kind: 'watch', node: 0, a: client.id, b: 1,
      run: () => {
        if (!this.running) return;
        this.check(client);
        this.scheduleCheck(client);
      },
    });
  }

  private check(client: WatchClient): void {
    const open = client.open;
    if (open === null) return;
    const { member } = open;
    if (member.server !== open.server || member.state === 'down' || member.state === 'refused') {
      this.close(client, 'member crashed');
      this.scheduleReopen(client);
      return;
    }
    if (member.state !== 'up') return; // paused: the connection hangs, the client waits
    open.leaderlessChecks = open.server.driver.status().lead === 0 ? open.leaderlessChecks + 1 : 0;
    if (open.leaderlessChecks >= 2) {
      this.close(client, 'no leader');
      this.scheduleReopen(client);
      return;
    }
    if (this.random.chance(RESTART_FROM_PAST_PROBABILITY)) {
      const last = this.truth.lastRevision();
      this.close(client, 'restarted from the past');
      client.nextStart = last >= 2 ? 2 + this.random.intBelow(last - 1) : 0;
      this.scheduleReopen(client);
      return;
    }
    if (this.random.chance(PROGRESS_REQUEST_PROBABILITY)) open.stream.requestProgress();
    if (open.slowUntilUs <= this.scheduler.nowUs && this.random.chance(this.options.slowProbability)) this.slowDown(client, open);
  }

  /** The client stops reading for a while; then it reads again (the member hands over what waited). */
  private slowDown(client: WatchClient, open: Open): void {
    const durationUs = Math.max(1, Math.round(1000 * this.random.exponential(this.options.slowMeanMs)));
    open.slowUntilUs = this.scheduler.nowUs + durationUs;
    this.scheduler.after(durationUs, {
      kind: 'watch', node: open.member.id, a: client.id, b: 3,
      run: () => {
        if (client.open === open && open.member.server === open.server && open.member.state === 'up') open.stream.resume();
      },
    });
  }

  private close(client: WatchClient, reason: string): void {
    const open = client.open;
    if (open === null) return;
    client.open = null;
    open.record.closedUs = this.scheduler.nowUs;
    open.record.closeReason = reason;
    if (open.member.server === open.server) open.stream.close();
  }

  private scheduleReopen(client: WatchClient): void {
    if (!this.running) return;
    this.scheduler.after(1000 * this.random.exponential(REOPEN_MEAN_MS), {
      kind: 'watch', node: 0, a: client.id, b: 2, run: () => { this.openStream(client); },
    });
  }
}

interface Received {
  readonly revision: number;
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compactRevision: number;
  readonly events: readonly RecordedEvent[];
}

function modelKv(kv: CoreKeyValue): KeyValue {
  return {
    key: toKey(kv.key), value: toKey(kv.value), createRevision: kv.createRevision,
    modRevision: kv.modRevision, version: kv.version, lease: historyLeaseId(kv.lease),
  };
}
