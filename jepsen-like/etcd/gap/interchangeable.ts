// Symmetry among unknown writes: which ones no response could tell apart, so
// that the gap search tries only one of each class at a gap.

import type { Observations } from '../observations.js';
import type { RequestOp } from '../types.js';
import type { EtcdOp } from './types.js';

/**
 * Classes of unknown writes that are interchangeable: the same request once the
 * values of their puts are blanked, where no response shows such a value and no
 * compare reads the key's value (so nothing could tell them apart), and without
 * prev_kv (an unknown op's response is never checked). Trading two of a class
 * between gaps changes no answer, and the one invoked first fits every gap any
 * of them fits.
 */
export function interchangeable(ops: readonly EtcdOp[], observations: Observations): Map<EtcdOp, string> {
  const anonymous = (key: string, value: string): boolean => !observations.valueCompared.has(key) && !observations.shown.has(`${key}\u0000${value}`);
  const blank = (op: RequestOp): RequestOp => {
    switch (op.type) {
      case 'put': {
        const { prevKv: _prevKv, ...rest } = op;
        return anonymous(op.key, op.value) ? { ...rest, value: '' } : rest;
      }
      case 'delete': {
        const { prevKv: _prevKv, ...rest } = op;
        return rest;
      }
      case 'range':
        return op;
    }
  };
  const classes = new Map<EtcdOp, string>();
  for (const op of ops) {
    const request = op.input;
    const canonical =
      request.type === 'put' || request.type === 'delete' ? blank(request)
      : request.type === 'txn' ? { ...request, success: request.success.map(blank), failure: request.failure.map(blank) }
      : request;
    classes.set(op, JSON.stringify(canonical));
  }
  return classes;
}
