// Knossos histories for the cas-register, multi-register and mutex models.

import type { Operation } from '../history.js';
import { HistoryFormatError } from '../history.js';
import type { CasInput, CasValue, Happened, MicroOp, MutexInput, TxnInput } from '../models/knossos.js';
import type { EdnOp } from './jepsen-edn.js';
import { readJepsenEdn } from './jepsen-edn.js';

/** Drops failed ops; the rest become ok (happened) or unknown operations. */
function toOperations<I>(ops: readonly EdnOp[], inputOf: (op: EdnOp) => I): Operation<I, Happened>[] {
  const out: Operation<I, Happened>[] = [];
  for (const op of ops) {
    if (op.completion === 'fail') continue;
    const input = inputOf(op);
    const ok = op.completion === 'ok';
    out.push({
      id: out.length,
      process: op.process,
      call: op.call,
      ret: ok ? op.ret : Infinity,
      input,
      output: ok ? true : undefined,
      outcome: ok ? 'ok' : 'unknown',
      line: op.line,
    });
  }
  return out;
}

/** The value an op carries: the completion's for ok ops (a read's result), else the invoke's. */
function valueOf(op: EdnOp): unknown {
  return op.completion === 'ok' ? op.completeValue : op.invokeValue;
}

function casValue(v: unknown, line: number): CasValue {
  if (v === null || typeof v === 'number' || typeof v === 'string') return v;
  throw new HistoryFormatError(line, `expected a number, string or nil, got ${JSON.stringify(v)}`);
}

export function parseKnossosCasRegister(text: string): Operation<CasInput, Happened>[] {
  return toOperations(readJepsenEdn(text), (op) => {
    const v = valueOf(op);
    switch (op.f) {
      case 'read':
        // An unknown read's value is the invoke's (normally nil: unconstrained).
        return { f: 'read', value: casValue(v, op.line) };
      case 'write':
        return { f: 'write', value: casValue(v, op.line) };
      case 'cas': {
        if (!Array.isArray(v) || v.length !== 2) throw new HistoryFormatError(op.line, 'a cas takes [from to]');
        return { f: 'cas', from: casValue(v[0], op.line), to: casValue(v[1], op.line) };
      }
      default:
        throw new HistoryFormatError(op.line, `the cas-register model has no :${op.f}`);
    }
  });
}

export function parseKnossosMultiRegister(text: string): Operation<TxnInput, Happened>[] {
  return toOperations(readJepsenEdn(text), (op) => {
    if (op.f !== 'txn') throw new HistoryFormatError(op.line, `the multi-register model has no :${op.f}`);
    const v = valueOf(op);
    if (!Array.isArray(v)) throw new HistoryFormatError(op.line, 'a txn takes a vector of [:read k v] / [:write k v]');
    const ops = v.map((micro: unknown): MicroOp => {
      if (!Array.isArray(micro) || micro.length !== 3) throw new HistoryFormatError(op.line, 'bad micro-op');
      const [f, key, value] = micro as unknown[];
      if ((f !== 'read' && f !== 'write') || typeof key !== 'string') throw new HistoryFormatError(op.line, 'bad micro-op');
      return { f, key, value: casValue(value, op.line) };
    });
    return { f: 'txn', ops };
  });
}

export function parseKnossosMutex(text: string): Operation<MutexInput, Happened>[] {
  return toOperations(readJepsenEdn(text), (op) => {
    if (op.f !== 'acquire' && op.f !== 'release') throw new HistoryFormatError(op.line, `the mutex model has no :${op.f}`);
    return { f: op.f };
  });
}
