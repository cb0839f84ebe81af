// The named checkers of the command line: a parser and a model for each
// history dialect. Each returns the verdict plus enough of the history to
// explain it, behind a model-independent shape.

import type { CheckOptions, CheckResult } from './check.js';
import { checkOperations } from './check.js';
import type { Operation } from './history.js';
import { checkEtcdHistory } from './etcd/check.js';
import { etcdModel } from './etcd/model.js';
import { parseEtcdHistory } from './etcd/parse.js';
import { etcdRegisterModel } from './models/etcd-register.js';
import { kvAppendModel } from './models/kv-append.js';
import { casRegisterModel, multiRegisterModel, mutexModel } from './models/knossos.js';
import type { Model } from './models/model.js';
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

export interface Checked {
  readonly result: CheckResult;
  readonly ops: readonly DescribedOp[];
}

export type Checker = (text: string, options?: CheckOptions) => Checked;

function checkerFor<S, I, O>(parse: (text: string) => Operation<I, O>[], model: Model<S, I, O>): Checker {
  return (text, options) => {
    const history = parse(text);
    const result = checkOperations(model, history, options);
    const ops = history.map((op) => ({
      id: op.id,
      process: op.process,
      call: op.call,
      ret: op.ret,
      outcome: op.outcome,
      line: op.line,
      text: model.describeOperation(op.input, op.output),
    }));
    return { result, ops };
  };
}

export const CHECKERS: Readonly<Record<string, Checker>> = {
  'porcupine-register': checkerFor(parsePorcupineRegister, etcdRegisterModel),
  'porcupine-kv': checkerFor(parsePorcupineKv, kvAppendModel),
  'knossos-cas-register': checkerFor(parseKnossosCasRegister, casRegisterModel(0)),
  'knossos-multi-register': checkerFor(parseKnossosMultiRegister, multiRegisterModel({ x: 0, y: 0 })),
  'knossos-mutex': checkerFor(parseKnossosMutex, mutexModel),
  etcd: (text, options) => {
    const history = parseEtcdHistory(text);
    const { result } = checkEtcdHistory(history, options);
    const ops = history.map((op) => ({
      id: op.id,
      process: op.process,
      call: op.call,
      ret: op.ret,
      outcome: op.outcome,
      line: op.line,
      text: etcdModel.describeOperation(op.input, op.output),
    }));
    return { result, ops };
  },
};

export function checkerNamed(name: string): Checker | undefined {
  return Object.hasOwn(CHECKERS, name) ? CHECKERS[name] : undefined;
}
