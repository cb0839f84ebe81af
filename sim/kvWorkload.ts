// The KV workload (`--workload kv`): simulated etcd clients in front of the
// EtcdServer members, modelled on etcd's robustness traffic — linearizable gets,
// ranges with a limit, stale (serializable) gets, puts, deletes, multi-op txns,
// compare-and-swap on mod_revision, leases (grant, put with lease, revoke) and
// compaction. Each client is a history "process" doing one op at a time; every op is
// recorded with its virtual invoke and complete times (µs) and an outcome in the
// checker's format (docs/history-format.md):
//
//   ok       the server answered (a refusal decided at apply, e.g. "required revision
//            has been compacted" or "requested lease not found", is an ok op whose
//            response is that error);
//   fail     it certainly did not happen: a read that errored or timed out (reads
//            change nothing), a proposal the member refused to make ("no leader"),
//            a request the member rejected before proposing, a member that is down
//            (connection refused);
//   unknown  a write whose answer never came before the client's deadline, or came
//            as "request timed out" / "server stopped": it may still take effect.
//            The process is retired; the client goes on under a new process id.
//
// Stale gets cannot be checked as linearizable reads of the latest state: they are
// issued and answered, but not written to the history (counted as `stale_reads`).
// They are checked by weaker rules instead (staleReads.ts): the state they return is
// the committed state at the revision they report, and a client staying on one member
// never sees that member's revision go back (checked here, as answers arrive).
//
// Revisions: a fresh etcd (and Tern) store is at revision 1 and the first write makes
// revision 2; the checker's etcd model counts the same way, so the history records
// Tern's revisions as they are.

import { isEtcdError, type EtcdError } from '../core/errors.js';
import type { EtcdServer, Reply } from '../core/server/server.js';
import type { NodeId } from '../core/raft/types.js';
import type { EtcdRequest, EtcdResponse } from '../jepsen-like/etcd/types.js';
import type { SimMember } from './cluster.js';
import { KvCalls, type KvCall } from './kvCalls.js';
import type { KubernetesClient } from './kubernetesTraffic.js';
import { SimActor, type SimParts } from './simActor.js';
import type { StaleRead } from './staleReads.js';
import { LeaseKeeper, type ServerOp } from './leaseKeeper.js';

export type KvOutcome = 'ok' | 'fail' | 'unknown' | 'stale';

/** One line of the history file. */
export interface KvRecord {
  readonly process: number;
  readonly call: number;
  ret: number | null;
  outcome: KvOutcome | 'pending';
  /** A stale get's request is rewritten, once answered, to a read at the revision it reports. */
  request: EtcdRequest;
  response?: EtcdResponse;
  /** The member asked (not part of the format; for humans reading the file). */
  readonly member: NodeId;
  /** For an op the cluster made on its own (not part of the format): what it was. */
  readonly note?: string;
  /** An expiry that wrote nothing: left out unless a put saw this lease gone (leaseKeeper.ts). */
  readonly silentLease?: number;
}

/** The KV workload's shape, drawn from the seed with the watch shape (world.ts). */
export interface KvWorkloadOptions {
  readonly clients: number;
  readonly keys: number;
  readonly thinkMeanMs: number;
  readonly timeoutMsMin: number;
  readonly timeoutMsMax: number;
  /** `kubernetes`: kube-apiserver's requests (kubernetesTraffic.ts) instead of the default mix. */
  readonly profile?: 'kubernetes';
}

/**
 * After an error or a timeout a client waits longer each time, up to a cap, as clientv3's
 * retries back off: an overloaded cluster then sheds load instead of piling up writes of
 * unknown outcome, and a healthy one is not slowed (an ok answer resets the wait).
 */
const BACKOFF_MEAN_MS = 50;
const BACKOFF_MAX_MS = 1000;
const SWITCH_PROBABILITY = 0.05;

/** The mean extra wait before a client's next request after `failuresInRow` failures or timeouts in a row. */
function backoffMeanMs(failuresInRow: number): number {
  if (failuresInRow === 0) return 0;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_MEAN_MS * 2 ** Math.min(failuresInRow - 1, 16));
}

/** Who sends a call, to which member. */
interface CallTarget {
  readonly client: Client;
  readonly member: SimMember;
}

interface Client {
  process: number;
  /** The member this client talks to (its endpoint), 0 = none chosen yet. */
  endpoint: NodeId;
  /** The server (member incarnation) that answered last, and the highest header revision it reported. */
  seenServer: EtcdServer | null;
  seenRevision: number;
  /** Requests in a row that failed or timed out: the next one waits longer. */
  failuresInRow: number;
  /** With the Kubernetes profile: a list page or a compaction that comes next. */
  readonly kubernetes: KubernetesClient;
  /** A client the viewer drives (one request per click): never schedules a request of its own. */
  readonly manual?: true;
}

/** A request a person sent from the viewer (sim/replay/): a put, or a linearizable read of a key or a range. */
export interface ManualRequest {
  readonly kind: 'put' | 'read';
  readonly member: NodeId;
  readonly key: string;
  readonly value: string;
  /** '' for a single key. */
  readonly rangeEnd: string;
}

/** At most this many viewer requests are kept for the page (a fork script holds at most 1000 actions anyway). */
const MANUAL_RECORDS_MAX = 1000;

/** Errors the state machine decides when it applies (or serves) a request: part of an ok answer. */
const DECIDED_ERRORS = new Map<string, string>([
  ['compacted', 'compacted'], ['futureRev', 'futureRev'], ['leaseNotFound', 'leaseNotFound'], ['leaseExist', 'leaseExists'],
]);
/** Errors after which a write may still take effect. */
const UNCERTAIN_ERRORS = new Set(['timeout', 'stopped', 'leaderChanged', 'notLeader', 'noSpace']);

export interface KvWorkloadSetup extends SimParts {
  /** The shape the seed drew (world.ts drawKvDraws). */
  readonly options: KvWorkloadOptions;
}

export class KvWorkload extends SimActor {
  readonly records: KvRecord[] = [];
  ok = 0;
  failed = 0;
  unknown = 0;
  /** Stale (serializable) gets answered; not in the checked history. */
  staleReads = 0;
  /** Serializable reads that saw their member's revision go back (the monotonic rule). */
  readonly staleRegressions: string[] = [];
  private readonly clients: Client[] = [];
  private nextProcess = 0;
  private running = false;
  /** Short leases: keep-alives and expiry. */
  readonly keeper: LeaseKeeper;
  /** The requests clients send, and what they learnt from the answers. */
  private readonly calls: KvCalls;
  /** The viewer's requests in the order asked, each with its record (also in `records`, checked like every op) or null when refused. */
  readonly manual: { readonly request: ManualRequest; readonly record: KvRecord | null }[] = [];

  readonly options: KvWorkloadOptions;

  constructor(setup: KvWorkloadSetup) {
    super(setup);
    const { scheduler, random, cluster, options } = setup;
    this.options = options;
    this.keeper = new LeaseKeeper({ scheduler, random, cluster, record: (op) => { this.recordServerOp(op); } });
    this.calls = new KvCalls({ random, keys: options.keys, keeper: this.keeper });
  }

  /** An op the cluster made on its own (a lease expiry): ok, under a process of its own. */
  private recordServerOp(op: ServerOp): void {
    this.records.push({
      process: this.nextProcess++, call: op.call, ret: op.ret, outcome: 'ok', request: op.request, response: op.response,
      member: op.member, note: op.note, ...(op.silentLease === undefined ? {} : { silentLease: op.silentLease }),
    });
  }

  start(): void {
    this.running = true;
    for (let i = 0; i < this.options.clients; i++) {
      const client: Client = { process: this.nextProcess++, endpoint: 0, seenServer: null, seenRevision: 0, failuresInRow: 0, kubernetes: { continuation: null } };
      this.clients.push(client);
      this.scheduleNext(client);
    }
  }

  /** No new ops from now on; what is pending stays pending until finish(). */
  stop(): void {
    this.running = false;
  }

  /** The run is over: an op still without an answer is unknown (a write) or failed (a read). */
  finish(): void {
    for (const record of this.records) {
      if (record.outcome !== 'pending') continue;
      this.settleUncertain(record, null);
    }
  }

  /** The history as JSON lines (docs/history-format.md). */
  historyText(): string {
    // Leases some put found gone: their expiries stay in, even those that wrote nothing.
    const seenGone = new Set<number>();
    for (const r of this.records) {
      if (r.outcome === 'ok' && r.request.type === 'put' && r.response?.['error'] === 'leaseNotFound') seenGone.add(r.request.lease ?? 0);
    }
    const lines: string[] = [];
    for (const r of this.records) {
      if (r.outcome === 'pending' || r.outcome === 'stale') continue;
      if (r.silentLease !== undefined && !seenGone.has(r.silentLease)) continue;
      lines.push(JSON.stringify({
        process: r.process, call: r.call, return: r.outcome === 'unknown' ? null : r.ret, outcome: r.outcome,
        request: r.request, ...(r.response === undefined ? {} : { response: r.response }), member: r.member,
        ...(r.note === undefined ? {} : { note: r.note }),
      }));
    }
    return lines.join('\n') + (lines.length > 0 ? '\n' : '');
  }

  /**
   * Sends a request a person asked for in the viewer, from a client of its own (a new
   * history process), to `request.member`; it is recorded and checked like any op.
   * Returns false when it could not be sent (the workload is not running, or the member
   * is down: a real client would be refused the connection).
   */
  sendManual(request: ManualRequest): boolean {
    const member = this.cluster.member(request.member);
    if (this.manual.length >= MANUAL_RECORDS_MAX) return false;
    if (!this.running || member.state === 'down' || member.state === 'refused') {
      this.manual.push({ request, record: null });
      return false;
    }
    const client: Client = {
      process: this.nextProcess++, endpoint: member.id, seenServer: null, seenRevision: 0, failuresInRow: 0, kubernetes: { continuation: null }, manual: true,
    };
    const before = this.records.length;
    if (request.kind === 'put') {
      this.dispatch({ client, member }, this.calls.putValue(request.key, request.value, 0));
    } else {
      this.dispatch({ client, member }, this.calls.rangeOf(request.key, request.rangeEnd));
    }
    this.manual.push({ request, record: this.records[before] ?? null });
    return true;
  }

  private scheduleNext(client: Client, backoffMeanMs = 0): void {
    if (!this.running || client.manual === true) return;
    const delayUs = 1000 * this.random.exponential(this.options.thinkMeanMs + backoffMeanMs);
    this.scheduler.after(delayUs, { kind: 'client', node: 0, a: client.process, run: () => { this.issue(client); } });
  }

  private issue(client: Client): void {
    if (!this.running) return;
    // Like clientv3's balancer: stay on one endpoint; move to another after an error or a
    // timeout, when it is down (connection refused), and now and then anyway.
    const current = client.endpoint === 0 ? null : this.cluster.member(client.endpoint);
    let member: SimMember | null = current;
    if (current === null || current.state === 'down' || current.state === 'refused' || this.random.chance(SWITCH_PROBABILITY)) {
      const candidates: SimMember[] = [];
      for (const id of this.cluster.ids) {
        const m = this.cluster.member(id);
        if ((m.state === 'up' || m.state === 'paused') && m !== current) candidates.push(m);
      }
      member = candidates.length === 0 ? current : (candidates[this.random.intBelow(candidates.length)] ?? null);
    }
    if (member === null || member.state === 'down' || member.state === 'refused') {
      this.scheduleNext(client);
      return;
    }
    client.endpoint = member.id;
    const target: CallTarget = { client, member };
    this.calls.next((call) => { this.dispatch(target, call); }, this.options.profile === 'kubernetes' ? client.kubernetes : null);
  }

  /** Sends `call` from the client to the member, records it, and settles it on the answer or the deadline. */
  private dispatch<T>({ client, member }: CallTarget, call: KvCall<T>): void {
    const record: KvRecord = {
      process: client.process, call: this.scheduler.nowUs, ret: null, outcome: 'pending', request: call.request, member: member.id,
    };
    this.records.push(record);
    const timeoutUs = 1000 * (this.options.timeoutMsMin + this.random.intBelow(this.options.timeoutMsMax - this.options.timeoutMsMin + 1));
    const complete = (): void => {
      this.calls.ended(call, record.outcome === 'unknown');
      if (record.outcome === 'unknown') client.process = this.nextProcess++;
      if (record.outcome === 'unknown' || record.outcome === 'fail') client.endpoint = 0;
      client.failuresInRow = record.outcome === 'ok' ? 0 : client.failuresInRow + 1;
      this.scheduleNext(client, backoffMeanMs(client.failuresInRow));
    };
    this.calls.started(call);
    this.scheduler.after(timeoutUs, {
      kind: 'clientTimeout', node: member.id, a: record.process,
      run: () => {
        if (record.outcome !== 'pending') return;
        this.settleUncertain(record, null);
        complete();
      },
    });
    let servedBy: EtcdServer | null = null;
    const reply: Reply<T> = (answer) => {
      if (record.outcome !== 'pending') return; // the client gave up already
      if (!isEtcdError(answer)) {
        this.observeRevision({ client, server: servedBy, record, stale: call.staleKey !== undefined, revision: answer.header.revision });
      }
      if (isEtcdError(answer)) {
        const decided = DECIDED_ERRORS.get(answer.name);
        if (decided !== undefined) this.settle(record, 'ok', { error: decided });
        else if (UNCERTAIN_ERRORS.has(answer.name)) this.settleUncertain(record, answer);
        else this.settle(record, 'fail', undefined);
      } else {
        const response = call.response(answer);
        const revision = answer.header.revision;
        if (call.staleKey === undefined) {
          this.settle(record, 'ok', response);
        } else {
          // Not checkable as a read of the latest state (see the top of this file):
          // recorded as a read at the revision it reports, outcome "stale" (left out of
          // the linearizability check).
          record.request = { type: 'range', key: call.staleKey, revision: revision };
          const { revision: _current, ...rest } = response;
          this.staleReads++;
          this.settle(record, 'stale', rest);
        }
      }
      complete();
    };
    this.cluster.runOn(member, () => {
      servedBy = member.server;
      if (member.server !== null) call.send(member, reply);
    }, !call.readOnly);
  }

  /**
   * The monotonic rule for serializable reads: one server's store only moves forward, so
   * a stale get must report at least every revision that server reported to this client.
   * `revision` is the header revision of `record`'s answer from `server` (null: none answered).
   */
  private observeRevision({ client, server, record, stale, revision }: {
    readonly client: Client; readonly server: EtcdServer | null; readonly record: KvRecord; readonly stale: boolean; readonly revision: number;
  }): void {
    if (server === null) return;
    if (client.seenServer !== server) {
      client.seenServer = server;
      client.seenRevision = 0;
    }
    if (stale && revision < client.seenRevision) {
      this.staleRegressions.push(`process ${record.process} on member ${record.member} at ${record.call} µs: serializable get ` +
        `at revision ${revision} after the same member reported ${client.seenRevision}`);
    }
    client.seenRevision = Math.max(client.seenRevision, revision);
  }

  /** The answered serializable gets, for the state rule (staleReads.ts). */
  staleReadRecords(): StaleRead[] {
    const reads: StaleRead[] = [];
    for (const r of this.records) {
      if (r.outcome !== 'stale' || r.request.type !== 'range' || r.response === undefined) continue;
      reads.push({ process: r.process, member: r.member, call: r.call, key: r.request.key, revision: r.request.revision ?? 0, response: r.response });
    }
    return reads;
  }

  private settle(record: KvRecord, outcome: KvOutcome, response: EtcdResponse | undefined): void {
    record.outcome = outcome;
    record.ret = this.scheduler.nowUs;
    if (response !== undefined) record.response = response;
    if (outcome === 'ok') this.ok++;
    else if (outcome === 'fail') this.failed++;
    else if (outcome === 'unknown') this.unknown++;
  }

  /** No answer (or an uncertain one): a read failed harmlessly, a write may have happened. */
  private settleUncertain(record: KvRecord, _error: EtcdError | null): void {
    const readOnly = record.request.type === 'range';
    this.settle(record, readOnly ? 'fail' : 'unknown', undefined);
  }

}
