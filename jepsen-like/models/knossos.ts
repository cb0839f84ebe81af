// Knossos's models, with Knossos's semantics: failed ops were dropped by the
// parser, and a read of nil means "we don't know what was read" (always legal).

import type { Model } from './model.js';
import { hashNumber, hashString } from './model.js';

// ---- cas-register ------------------------------------------------------------

export type CasValue = number | string | null;

export type CasInput =
  | { readonly f: 'read'; readonly value: CasValue }
  | { readonly f: 'write'; readonly value: CasValue }
  | { readonly f: 'cas'; readonly from: CasValue; readonly to: CasValue };

/** Knossos ops carry their result in the input (the completion's value); the output is only "it happened". */
export type Happened = true;

function hashCas(v: CasValue): number {
  if (v === null) return 0x27d4eb2f;
  return typeof v === 'number' ? hashNumber(v) : hashString(v);
}

export function casRegisterModel(initial: CasValue): Model<CasValue, CasInput, Happened> {
  const apply = (state: CasValue, input: CasInput): CasValue | undefined => {
    switch (input.f) {
      case 'read':
        return input.value === null || input.value === state ? state : undefined;
      case 'write':
        return input.value;
      case 'cas':
        return state === input.from ? input.to : undefined;
    }
  };
  return {
    name: 'knossos-cas-register',
    init: () => initial,
    step: (state, input) => apply(state, input),
    stepUnknown: (state, input) => apply(state, input) ?? state,
    equal: (a, b) => a === b,
    hash: hashCas,
    readOnly: (input) => input.f === 'read',
    describeOperation(input) {
      return input.f === 'cas'
        ? `cas(${String(input.from)}, ${String(input.to)})`
        : `${input.f}(${String(input.value)})`;
    },
    describeState: (s) => String(s),
  };
}

// ---- multi-register ----------------------------------------------------------

export interface MicroOp {
  readonly f: 'read' | 'write';
  readonly key: string;
  /** For a read, null = unconstrained. */
  readonly value: CasValue;
}

export interface TxnInput {
  readonly f: 'txn';
  readonly ops: readonly MicroOp[];
}

/**
 * State: the registers as a frozen key -> value record. Parts are joined per
 * key by union-find, so a state only ever differs from init in its part's keys.
 */
export type Registers = Readonly<Record<string, CasValue>>;

export function multiRegisterModel(initial: Registers): Model<Registers, TxnInput, Happened> {
  const valueOf = (state: Registers, key: string): CasValue => state[key] ?? null;
  const apply = (state: Registers, input: TxnInput): Registers | undefined => {
    let next = state;
    for (const op of input.ops) {
      if (op.f === 'read') {
        if (op.value !== null && op.value !== valueOf(next, op.key)) return undefined;
      } else if (valueOf(next, op.key) !== op.value) {
        next = { ...next, [op.key]: op.value };
      }
    }
    return next;
  };
  const keysOf = (state: Registers): string[] => Object.keys(state).sort();
  return {
    name: 'knossos-multi-register',
    init: () => initial,
    step: (state, input) => apply(state, input),
    stepUnknown: (state, input) => apply(state, input) ?? state,
    equal(a, b) {
      if (a === b) return true;
      const ka = keysOf(a);
      const kb = keysOf(b);
      return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
    },
    hash(state) {
      let h = 0;
      for (const k of keysOf(state)) h = (Math.imul(h, 31) + (hashString(k) ^ hashCas(valueOf(state, k)))) | 0;
      return h;
    },
    readOnly: (input) => input.ops.every((op) => op.f === 'read'),
    keys: (input) => input.ops.map((op) => op.key),
    describeOperation: (input) =>
      `txn ${input.ops.map((op) => `${op.f}(${op.key}, ${String(op.value)})`).join(' ')}`,
    describeState: (s) => JSON.stringify(s),
  };
}

// ---- mutex -------------------------------------------------------------------

export interface MutexInput {
  readonly f: 'acquire' | 'release';
}

/** State: true when held. */
export const mutexModel: Model<boolean, MutexInput, Happened> = {
  name: 'knossos-mutex',
  init: () => false,
  step: (held, input) => (input.f === 'acquire' ? (held ? undefined : true) : held ? false : undefined),
  stepUnknown: (held, input) => (input.f === 'acquire' ? true : false),
  equal: (a, b) => a === b,
  hash: (held) => (held ? 1 : 2),
  readOnly: () => false,
  describeOperation: (input) => `${input.f}()`,
  describeState: (held) => (held ? 'held' : 'free'),
};
