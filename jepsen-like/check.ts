// Checks one history against one model: partition, then search each part.
//
// Verdicts combine as illegal > unknown > ok: one illegal part proves the whole
// history illegal; a part that ran out of budget leaves the whole unknown,
// never ok.

import type { Operation, Verdict } from './history.js';
import type { Model } from './models/model.js';
import { partitionByKeys } from './search/partition.js';
import type { SearchOp } from './search/wgl.js';
import { searchLinearization } from './search/wgl.js';

export interface CheckOptions {
  /** Wall-clock budget for the whole history; default: unlimited. */
  readonly timeoutMs?: number;
  /** Memo-cache entries allowed per part before giving up; default 20 million. */
  readonly maxCacheEntries?: number;
  /** Clock in milliseconds; injectable so tests can force a timeout. */
  readonly now?: () => number;
}

export interface IllegalPart {
  /** Ids of the ops in the part that cannot be linearized. */
  readonly ops: readonly number[];
  /** Ids of the longest linearizable prefix of that part, in linearization order. */
  readonly longestPrefix: readonly number[];
  /** What went wrong, when the checker can say it in words. */
  readonly reason?: string;
}

export type CheckResult =
  | { readonly verdict: 'ok'; readonly parts: number }
  | { readonly verdict: 'illegal'; readonly parts: number; readonly failing: IllegalPart }
  | { readonly verdict: 'unknown'; readonly parts: number; readonly cause: 'timeout' | 'memory' };

export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult {
  const now = options.now ?? ((): number => performance.now());
  const budget = {
    deadline: options.timeoutMs === undefined ? Infinity : now() + options.timeoutMs,
    now,
    maxCacheEntries: options.maxCacheEntries ?? 20_000_000,
  };
  // An unknown op that cannot change the state is always linearizable at the end.
  const ops = history.filter((op) => op.outcome === 'ok' || !model.readOnly(op.input));
  const keys = model.keys;
  const parts =
    keys === undefined ? [ops.map((_, i) => i)] : partitionByKeys(ops.map((op) => keys(op.input)));
  // Small parts first: a violation is usually found sooner there.
  parts.sort((a, b) => a.length - b.length);

  let unknownCause: 'timeout' | 'memory' | undefined;
  const classes = new Map<string, number>();
  for (const part of parts) {
    const searchOps = part.map((i) => toSearchOp(model, ops[i], classes));
    const result = searchLinearization(searchOps, model, budget);
    if (result.verdict === 'illegal') {
      const idOf = (k: number): number => ops[part[k] ?? -1]?.id ?? -1;
      return {
        verdict: 'illegal',
        parts: parts.length,
        failing: { ops: part.map((_, k) => idOf(k)), longestPrefix: result.longest.map(idOf) },
      };
    }
    if (result.verdict === 'unknown') unknownCause ??= result.cause;
  }
  return unknownCause === undefined
    ? { verdict: 'ok', parts: parts.length }
    : { verdict: 'unknown', parts: parts.length, cause: unknownCause };
}

function toSearchOp<S, I, O>(
  model: Model<S, I, O>,
  op: Operation<I, O> | undefined,
  classes: Map<string, number>,
): SearchOp<S> {
  if (op === undefined) throw new RangeError('partition index out of range');
  const { input, output } = op;
  if (op.outcome === 'ok' && output !== undefined) {
    return { call: op.call, ret: op.ret, definite: true, step: (s) => model.step(s, input, output) };
  }
  // Inputs are plain data: equal JSON means an equal effect.
  const key = JSON.stringify(input);
  let symmetryClass = classes.get(key);
  if (symmetryClass === undefined) {
    symmetryClass = classes.size;
    classes.set(key, symmetryClass);
  }
  return { call: op.call, ret: Infinity, definite: false, step: (s) => model.stepUnknown(s, input), symmetryClass };
}

export type { Verdict };
