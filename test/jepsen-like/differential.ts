// Shared by the differential property tests: the fast path on a history with
// one op replaced must agree with the WGL search, whenever both decide.

import { checkOperations } from '../../jepsen-like/check.js';
import { revisionDirectedCheck } from '../../jepsen-like/etcd/fast-path.js';
import { etcdModel } from '../../jepsen-like/etcd/model.js';
import type { EtcdRequest, EtcdResponse } from '../../jepsen-like/etcd/types.js';
import type { Operation } from '../../jepsen-like/history.js';

type EtcdOp = Operation<EtcdRequest, EtcdResponse>;

/** Replaces op i with `changed`; true unless the fast path and the search give different decided verdicts. */
export function fastAgreesWithSearch(history: readonly EtcdOp[], i: number, changed: EtcdOp): boolean {
  const mutated = history.map((op, j) => (j === i ? changed : op));
  const fast = revisionDirectedCheck(mutated).verdict;
  if (fast === 'inconclusive') return true;
  const searched = checkOperations(etcdModel, mutated, { timeoutMs: 20_000 }).verdict;
  return searched === 'unknown' || searched === fast;
}
