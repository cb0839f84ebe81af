// The named checkers of the command line: a parser and a model for each
// history dialect. Each returns the verdict plus enough of the history to
// explain it, behind a model-independent shape.

import type { CheckOptions, CheckResult } from './check.js';
import { checkOperations } from './check.js';
import type { Operation } from './history.js';
import { checkEtcdHistory } from './etcd/check.js';
import { etcdModel } from './etcd/model.js';
import { parseEtcdHistory } from './etcd/parse.js';
import type { EtcdRequest, EtcdResponse } from './etcd/types.js';
import { etcdRegisterModel } from './models/etcd-register.js';
import { kvAppendModel } from './models/kv-append.js';
import { casRegisterModel, multiRegisterModel, mutexModel } from './models/knossos.js';
import type { Model } from './models/model.js';
import { failingWindow } from './explain/window.js';
import { parseKnossosCasRegister, parseKnossosMultiRegister, parseKnossosMutex } from './parse/knossos.js';
import { parsePorcupineKv } from './parse/porcupine-kv.js';
import { parsePorcupineRegister } from './parse/porcupine-register.js';

/** One operation, described for people (reports, messages). */
export interface DescribedOp {
  readonly id: number;
  readonly process: number | string;
  readonly call: number;
  readonly ret: number;
  readonly outcome: 'ok' | 'unknown';
  readonly line: number;
  readonly text: string;
}

export interface Explanation {
  /** Ids of a minimal set of ops that cannot be linearized together. */
  readonly window: readonly number[];
  readonly longestPrefix: readonly number[];
  readonly reason?: string;
}

export interface Checked {
  readonly result: CheckResult;
  readonly ops: readonly DescribedOp[];
  /** For an illegal verdict: the minimal failing window (costs up to a few seconds). */
  readonly explain: () => Explanation | undefined;
}

export type Checker = (text: string, options?: CheckOptions) => Checked;

function describe<I, O>(model: Model<unknown, I, O>, history: readonly Operation<I, O>[]): DescribedOp[] {
  return history.map((op) => ({
    id: op.id,
    process: op.process,
    call: op.call,
    ret: op.ret,
    outcome: op.outcome,
    line: op.line,
    text: model.describeOperation(op.input, op.output),
  }));
}

/** The failing window of the illegal part, around where the search got stuck. */
function explainer<I, O>(history: readonly Operation<I, O>[], result: CheckResult): () => Explanation | undefined {
  return () => {
    if (result.verdict !== 'illegal') return undefined;
    const { failing } = result;
    const part = new Set(failing.ops);
    const window = failingWindow(history.filter((op) => part.has(op.id)), failing.longestPrefix);
    return { window, longestPrefix: failing.longestPrefix, ...(failing.reason === undefined ? {} : { reason: failing.reason }) };
  };
}

function checkerFor<S, I, O>(parse: (text: string) => Operation<I, O>[], model: Model<S, I, O>): Checker {
  return (text, options) => {
    const history = parse(text);
    const result = checkOperations(model, history, options);
    return { result, ops: describe(model as Model<unknown, I, O>, history), explain: explainer(history, result) };
  };
}

/** Beyond this many ops the etcd window is left as the fast path's culprits. */
const ETCD_WINDOW_LIMIT = 400;

export const CHECKERS: Readonly<Record<string, Checker>> = {
  'porcupine-register': checkerFor(parsePorcupineRegister, etcdRegisterModel),
  'porcupine-kv': checkerFor(parsePorcupineKv, kvAppendModel),
  'knossos-cas-register': checkerFor(parseKnossosCasRegister, casRegisterModel(0)),
  'knossos-multi-register': checkerFor(parseKnossosMultiRegister, multiRegisterModel({ x: 0, y: 0 })),
  'knossos-mutex': checkerFor(parseKnossosMutex, mutexModel),
  etcd: (text, options) => {
    const history = parseEtcdHistory(text);
    const { result } = checkEtcdHistory(history, options);
    const ops = describe(etcdModel as Model<unknown, EtcdRequest, EtcdResponse>, history);
    if (result.verdict !== 'illegal') return { result, ops, explain: () => undefined };
    const { failing } = result;
    const fastPathView = (): Explanation => ({ window: failing.ops, longestPrefix: failing.longestPrefix, ...(failing.reason === undefined ? {} : { reason: failing.reason }) });
    const explain = (): Explanation => {
      // For small histories, the search's longest prefix gives a better window than the fast path's culprits.
      if (history.length > ETCD_WINDOW_LIMIT) return fastPathView();
      const searched = checkOperations(etcdModel, history, { timeoutMs: 2000 });
      const view = explainer(history, searched)();
      return view === undefined ? fastPathView() : { ...view, ...(failing.reason === undefined ? {} : { reason: failing.reason }) };
    };
    return { result, ops, explain };
  },
};

export function checkerNamed(name: string): Checker | undefined {
  return Object.hasOwn(CHECKERS, name) ? CHECKERS[name] : undefined;
}
