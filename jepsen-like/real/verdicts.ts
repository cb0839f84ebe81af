// The verdicts on a run, each computed from what the run recorded or from the healed
// cluster: linearizability (the existing etcd checker), acknowledged writes read back,
// revisions per client, HashKV on every member.

import { checkerNamed, type Checker } from '../checkers.js';
import type { Verdict } from '../history.js';
import { bytes, EtcdClient, keyValue, num, statusOf, type Wire } from './client.js';
import type { RealCluster } from './cluster.js';
import type { HistoryRecord } from './recorder.js';
import type { RevisionRegression } from './worker.js';
import type { WatchStream } from '../watch/validate.js';
import { linearizeWithStreams } from './watch.js';

export interface LinearizableVerdict {
  readonly verdict: Verdict;
  readonly method: string;
  readonly ms: number;
  /** Line numbers (1-based, in history.jsonl) of the minimal failing window, when illegal. */
  readonly windowLines?: readonly number[];
  readonly reason?: string;
}

/**
 * The etcd checker on the history file's text: ok, illegal (with its window), or unknown
 * when out of budget. When it gives up and the run recorded watch streams, the fast path
 * directed by what they heard gets one more budget: a linearization it finds decides ok
 * (linearizeWithStreams says why that is sound); anything else leaves the verdict unknown.
 */
export function checkLinearizable(
  historyText: string, timeoutMs: number, streams: readonly WatchStream[] = [], checker: Checker | undefined = checkerNamed('etcd'),
): LinearizableVerdict {
  if (checker === undefined) throw new Error('the etcd checker is missing');
  const started = performance.now();
  const checked = checker(historyText, { timeoutMs });
  const { result } = checked;
  const elapsed = (): number => Math.round(performance.now() - started);
  const method = result.verdict === 'unknown' ? `out of budget (${result.cause})` : `${result.parts} part(s)`;
  if (result.verdict === 'unknown' && streams.length > 0 && linearizeWithStreams(historyText, streams, timeoutMs).verdict === 'ok') {
    return { verdict: 'ok', method: `${method}, then the fast path with the watch streams' facts`, ms: elapsed() };
  }
  const ms = elapsed();
  if (result.verdict !== 'illegal') return { verdict: result.verdict, method, ms };
  const explanation = checked.explain();
  const lineOf = new Map(checked.ops.map((op) => [op.id, op.line]));
  const windowLines = (explanation?.window ?? result.failing.ops).map((id) => lineOf.get(id) ?? 0);
  const reason = explanation?.reason ?? result.failing.reason;
  return { verdict: 'illegal', method, ms, windowLines, ...(reason === undefined ? {} : { reason }) };
}

export interface LostWrite {
  readonly key: string;
  readonly value: string;
  readonly revision: number;
  readonly read: string;
}

export interface LostWritesVerdict {
  readonly checked: number;
  readonly lost: readonly LostWrite[];
  /** Acknowledged writes below the last compaction, which no read can see at their revision. */
  readonly skippedCompacted: number;
}

/** Every acknowledged put (plain or in a txn that succeeded), as (key, value, revision). */
export function acknowledgedWrites(records: readonly HistoryRecord[]): { key: string; value: string; revision: number }[] {
  const acked: { key: string; value: string; revision: number }[] = [];
  for (const r of records) {
    if (r.outcome !== 'ok' || r.response === undefined || typeof r.response['revision'] !== 'number') continue;
    const revision = r.response['revision'];
    if (r.request.type === 'put' && r.response['error'] === undefined) acked.push({ key: r.request.key, value: r.request.value, revision });
    if (r.request.type === 'txn' && r.response['succeeded'] === true) {
      for (const op of r.request.success) if (op.type === 'put') acked.push({ key: op.key, value: op.value, revision });
    }
  }
  return acked;
}

/**
 * Reads every acknowledged write back at its own revision. Writes below the last
 * compaction (the compact nemesis) cannot be read there any more: they are counted as
 * skipped, and only the linearizability verdict speaks for them.
 */
export async function checkLostWrites(records: readonly HistoryRecord[], endpoint: string, compactedTo = 0): Promise<LostWritesVerdict> {
  const all = acknowledgedWrites(records);
  const acked = all.filter((a) => a.revision >= compactedTo);
  let compactedAway = 0;
  const client = new EtcdClient(endpoint, 5000);
  const lost: LostWrite[] = [];
  try {
    const PARALLEL = 16;
    for (let i = 0; i < acked.length; i += PARALLEL) {
      await Promise.all(acked.slice(i, i + PARALLEL).map(async (a) => {
        let read: string;
        try {
          const r = await client.call('kv', 'Range', { key: bytes(a.key), revision: String(a.revision) });
          const kv = ((r['kvs'] ?? []) as unknown[])[0];
          read = kv === undefined ? '(absent)' : keyValue(kv).value;
        } catch (error: unknown) {
          read = `(error: ${error instanceof Error ? error.message : String(error)})`;
        }
        // Compacted by a client (the kubernetes workload's compactor): not readable there, not lost.
        if (read.includes('required revision has been compacted')) compactedAway++;
        else if (read !== a.value) lost.push({ ...a, read });
      }));
    }
  } finally {
    client.close();
  }
  return { checked: acked.length - compactedAway, lost, skippedCompacted: all.length - acked.length + compactedAway };
}

export interface MonotonicVerdict {
  readonly ok: boolean;
  readonly regressions: readonly RevisionRegression[];
}

export function monotonicVerdict(regressions: readonly RevisionRegression[]): MonotonicVerdict {
  return { ok: regressions.length === 0, regressions: regressions.slice(0, 20) };
}

export interface HashKvVerdict {
  /** null: the members never reached one revision in the time allowed (not a verdict). */
  readonly ok: boolean | null;
  readonly revision: number;
  readonly hashes: Readonly<Record<string, string>>;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => { setTimeout(done, ms); });

/** Once every member has applied the same revision, HashKV at it on each: equal hashes, or which differ. */
export async function checkHashKv(cluster: RealCluster, waitMs: number): Promise<HashKvVerdict> {
  const clients = cluster.endpoints.map((e) => new EtcdClient(e, 5000));
  try {
    const deadline = performance.now() + waitMs;
    for (;;) {
      const statuses = await Promise.all(clients.map((c) => statusOf(c, 2000)));
      const revisions = statuses.map((s) => s?.revision ?? -1);
      const revision = revisions[0] ?? -1;
      if (revision > 0 && revisions.every((r) => r === revision)) {
        const hashes: Record<string, string> = {};
        const errors: string[] = [];
        await Promise.all(clients.map(async (c, i) => {
          const name = cluster.members[i]?.name ?? String(i);
          try {
            const r: Wire = await c.call('maintenance', 'HashKV', { revision: String(revision) });
            hashes[name] = `${num(r['hash'])}@${num(r['compact_revision'])}`;
          } catch (error: unknown) {
            hashes[name] = `error: ${error instanceof Error ? error.message : String(error)}`;
            errors.push(name);
          }
        }));
        const distinct = new Set(Object.values(hashes));
        return { ok: errors.length > 0 ? null : distinct.size === 1, revision, hashes };
      }
      if (performance.now() > deadline) return { ok: null, revision: -1, hashes: Object.fromEntries(revisions.map((r, i) => [cluster.members[i]?.name ?? String(i), `revision ${r}`])) };
      await sleep(250);
    }
  } finally {
    for (const c of clients) c.close();
  }
}
