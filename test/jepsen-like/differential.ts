// Shared by the differential property tests: the fast path on a history with
// one op replaced must agree with the WGL search, whenever both decide.

import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
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

/** One op of a generated history, replaced by `mutate`; `kind` picks the mutation. */
export interface MutationProperty {
  /** kind is drawn from 0..kinds. */
  readonly kinds: number;
  readonly numRuns: number;
  readonly history: (seed: number) => EtcdOp[];
  readonly mutate: (m: { readonly victim: EtcdOp; readonly donor: EtcdOp; readonly kind: number; readonly pick: number }) => EtcdOp;
}

/** fast-check: for every drawn history and mutation, the fast path agrees with the search. */
export function assertFastAgreesUnderMutation(t: ExecutionContext, property: MutationProperty): void {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.nat(property.kinds), fc.nat(), fc.nat(), (seed, kind, pick, other) => {
      const history = property.history(seed);
      const i = pick % history.length;
      const victim = history[i];
      const donor = history[other % history.length];
      if (victim === undefined || donor === undefined) return true;
      return fastAgreesWithSearch(history, i, property.mutate({ victim, donor, kind, pick }));
    }),
    { numRuns: property.numRuns },
  );
  t.pass();
}
