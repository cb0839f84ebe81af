// What etcd 3.4's mvcc counts (mvcc/metrics_txn.go): each read or write transaction
// tallies its ranges, puts, deletes and put bytes, and on its end adds them to the
// totals, counting one "txn" when it did more than one operation. These are plain
// numbers; net/ exports them as etcd_mvcc_* families.
//
// Which transactions etcd opens per request (etcdserver/apply.go), observed on 3.4.23:
// - Range: one read with one range.
// - Put: one write with one put, plus one range when prev_kv, ignore_value or
//   ignore_lease asks for the old value (so `put --prev-kv` counts a txn).
// - DeleteRange: one write with one delete (per request, not per key), plus one range
//   with prev_kv.
// - Txn: a read over every compare on the chosen path (and the ignore_* lookups of a
//   writing txn), then, if the txn can write, a separate write with the chosen ops;
//   a read-only txn does its range ops in that first read.
// - Compaction: one range (etcd reads the revision after compacting).
// - Lease revoke: one write deleting each attached key.

import type { RequestOp, TxnRequest } from './types.js';

export interface MvccCounters {
  ranges: number;
  puts: number;
  deletes: number;
  txns: number;
  /** Sum of key plus value lengths of every put (etcd_debugging_mvcc_total_put_size_in_bytes). */
  putBytes: number;
}

export function newMvccCounters(): MvccCounters {
  return { ranges: 0, puts: 0, deletes: 0, txns: 0, putBytes: 0 };
}

/** One transaction's tally. */
export interface TxnTally {
  ranges: number;
  puts: number;
  deletes: number;
  putBytes: number;
}

export function emptyTally(): TxnTally {
  return { ranges: 0, puts: 0, deletes: 0, putBytes: 0 };
}

/** Adds an ended transaction to the totals, as metricsTxnWrite.End does. */
export function endTxn(counters: MvccCounters, tally: TxnTally): void {
  if (tally.ranges + tally.puts + tally.deletes > 1) counters.txns++;
  counters.ranges += tally.ranges;
  counters.puts += tally.puts;
  counters.deletes += tally.deletes;
  counters.putBytes += tally.putBytes;
}

/** etcd's isTxnReadonly: no put or delete in any branch, at any depth. */
export function txnIsReadOnly(txn: TxnRequest): boolean {
  const readOnly = (op: RequestOp): boolean => ('range' in op) || ('txn' in op && txnIsReadOnly(op.txn));
  return txn.success.every(readOnly) && txn.failure.every(readOnly);
}

/** The compares etcd evaluates for a txn: its own, and those of nested txns on the chosen path (in op order). */
export function comparesOnPath(txn: TxnRequest, path: readonly boolean[]): number {
  let at = 0;
  const walk = (t: TxnRequest): number => {
    const succeeded = path[at++] ?? false;
    let n = t.compare.length;
    for (const op of succeeded ? t.success : t.failure) if ('txn' in op) n += walk(op.txn);
    return n;
  };
  return walk(txn);
}
