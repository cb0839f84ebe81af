// Checks an etcd history: the revision-directed fast path first; the WGL
// search over the whole-store model only for what the fast path cannot decide.

import type { CheckOptions, CheckResult } from '../check.js';
import { checkOperations } from '../check.js';
import type { Operation } from '../history.js';
import { revisionDirectedCheck } from './fast-path.js';
import { etcdModelFrom } from './model.js';
import { ETCD_INITIAL_REVISION } from './store.js';
import type { EtcdRequest, EtcdResponse } from './types.js';

export interface EtcdCheckResult {
  readonly result: CheckResult;
  /** "fast path" or why the search was needed. */
  readonly method: string;
}

export interface EtcdCheckOptions extends CheckOptions {
  /** The revision of the empty store: etcd's (and Tern's) 1 by default, so the first write makes 2. */
  readonly initialRevision?: number;
}

export function checkEtcdHistory(history: readonly Operation<EtcdRequest, EtcdResponse>[], options: EtcdCheckOptions = {}): EtcdCheckResult {
  // One budget for both stages: the search gets what the fast path left.
  const now = options.now ?? ((): number => performance.now());
  const deadline = options.timeoutMs === undefined ? Infinity : now() + options.timeoutMs;
  const initialRevision = options.initialRevision ?? ETCD_INITIAL_REVISION;
  const fast = revisionDirectedCheck(history, { budget: { deadline, now }, initialRevision });
  switch (fast.verdict) {
    case 'ok':
      return { result: { verdict: 'ok', parts: 1 }, method: 'fast path' };
    case 'illegal':
      return {
        result: { verdict: 'illegal', parts: 1, failing: { ops: fast.ops, longestPrefix: fast.prefix, reason: fast.reason } },
        method: 'fast path',
      };
    case 'inconclusive':
      return {
        result: checkOperations(etcdModelFrom(initialRevision), history, {
          ...options,
          now,
          ...(deadline === Infinity ? {} : { timeoutMs: Math.max(0, deadline - now()) }),
        }),
        method: `search (${fast.reason})`,
      };
  }
}
