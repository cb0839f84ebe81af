// Rule (a)'s input: each ok response read for the revision it names. A
// mutation claims its revision, any other op sits in that revision's bucket,
// an error (no revision) floats until floating.ts places it, and a lease
// revoke may or may not have made its revision.

import type { EtcdRequest, EtcdResponse, Json } from '../types.js';
import type { EtcdOp, Illegal, Placed } from './placed.js';
import { illegal } from './placed.js';

export interface Floating {
  readonly op: EtcdOp;
  readonly side: 'early' | 'late';
}

export interface Classified {
  readonly mutationAt: Map<number, EtcdOp>;
  readonly placed: Placed[];
  /** Buckets holding ops that change state without a revision (compact, lease grant, revoke). */
  readonly stirredBuckets: Set<number>;
  readonly maxRevision: number;
  readonly floating: Floating[];
  readonly revokes: { readonly op: EtcdOp; readonly revision: number }[];
}

export type Refusal = Illegal | { readonly verdict: 'inconclusive'; readonly reason: string };

/**
 * Which end of its real-time window an error response (which carries no
 * revision) is best placed at. The conditions behind the errors are monotone
 * along the linearization: the revision and the compact revision only grow, and
 * a lease exists only after its grant (and, once revoked, no more: floating.ts
 * takes the first position past the revoke). So if the best end does not
 * explain the error, no point does.
 */
export function errorSide(error: Json): 'early' | 'late' | undefined {
  if (error === 'futureRev' || error === 'leaseNotFound') return 'early';
  if (error === 'compacted' || error === 'leaseExists') return 'late';
  return undefined;
}

/** Sorts the ok ops by the revision they name; a refusal when one cannot be placed or two writes claim one revision. */
export function classifyByRevision(history: readonly EtcdOp[], initialRevision: number): Classified | Refusal {
  const out: Classified = { mutationAt: new Map(), placed: [], stirredBuckets: new Set(), maxRevision: initialRevision, floating: [], revokes: [] };
  let maxRevision = initialRevision;
  for (const op of history) {
    if (op.outcome !== 'ok' || op.output === undefined) continue;
    const response = op.output;
    const error = response['error'];
    if (error !== undefined) {
      const side = errorSide(error);
      if (side === undefined) return { verdict: 'inconclusive', reason: `line ${op.line}: unknown error ${JSON.stringify(error)}` };
      out.floating.push({ op, side });
      continue;
    }
    const revision = response['revision'];
    if (typeof revision !== 'number') return { verdict: 'inconclusive', reason: `line ${op.line}: the response records no revision` };
    if (revision < initialRevision) return illegal(`line ${op.line}: revision ${revision} is below the empty store's ${initialRevision}`, [op.id]);
    maxRevision = Math.max(maxRevision, revision);
    if (op.input.type === 'leaseRevoke') {
      out.revokes.push({ op, revision });
      continue;
    }
    const refused = placeAnswer(out, op, revision, initialRevision);
    if (refused !== undefined) return refused;
  }
  return { ...out, maxRevision };
}

/** Places an ok op with a revision and no error: a mutation claims it, any other op goes in its bucket. */
function placeAnswer(out: Classified, op: EtcdOp, revision: number, initialRevision: number): Refusal | undefined {
  const mutates = op.output === undefined ? undefined : isMutation(op.input, op.output);
  if (mutates === undefined) return { verdict: 'inconclusive', reason: `line ${op.line}: cannot tell from the response whether it wrote` };
  if (!mutates) {
    if (op.input.type === 'compact' || op.input.type === 'leaseGrant') out.stirredBuckets.add(revision);
    out.placed.push({ op, key: 2 * revision + 1 });
    return undefined;
  }
  const other = out.mutationAt.get(revision);
  if (other !== undefined) return illegal(`lines ${other.line} and ${op.line}: two writes claim revision ${revision}`, [other.id, op.id]);
  if (revision === initialRevision) return illegal(`line ${op.line}: a write claims the empty store's revision ${revision}`, [op.id]);
  out.mutationAt.set(revision, op);
  out.placed.push({ op, key: 2 * revision });
  return undefined;
}

/**
 * A lease revoke writes iff the lease had keys, which its response does not
 * say. It sits in the bucket of its revision; if no other ok op claims that
 * revision, the gap search also tries it as the revision's writer. Returns
 * those optional writers by revision.
 */
export function placeRevokes(classified: Classified, initialRevision: number): Map<number, EtcdOp[]> {
  const revokesAt = new Map<number, EtcdOp[]>();
  for (const { op, revision } of classified.revokes) {
    classified.stirredBuckets.add(revision);
    classified.placed.push({ op, key: 2 * revision + 1 });
    if (classified.mutationAt.has(revision) || revision === initialRevision) continue;
    const list = revokesAt.get(revision);
    if (list === undefined) revokesAt.set(revision, [op]);
    else list.push(op);
  }
  return revokesAt;
}

/** Whether an ok response shows the op created a revision; undefined if it does not say. */
export function isMutation(request: EtcdRequest, response: EtcdResponse): boolean | undefined {
  switch (request.type) {
    case 'range':
    case 'compact':
    case 'leaseGrant':
      return false;
    case 'put':
      return true;
    case 'delete': {
      const deleted = response['deleted'];
      return typeof deleted === 'number' ? deleted > 0 : undefined;
    }
    case 'txn':
      return txnWrote(request.success, request.failure, response);
    case 'leaseRevoke':
      return undefined; // it writes iff keys were attached, which the response does not show
  }
}

function txnWrote(success: Extract<EtcdRequest, { type: 'txn' }>['success'], failure: typeof success, response: EtcdResponse): boolean | undefined {
  const succeeded = response['succeeded'];
  const responses = response['responses'];
  if (typeof succeeded !== 'boolean') return undefined;
  const ops = succeeded ? success : failure;
  if (ops.some((op) => op.type === 'put')) return true;
  if (!ops.some((op) => op.type === 'delete')) return false;
  if (!Array.isArray(responses)) return undefined;
  let wrote = false;
  for (let i = 0; i < ops.length; i++) {
    if (ops[i]?.type !== 'delete') continue;
    const sub = (responses as readonly Json[])[i];
    const deleted = typeof sub === 'object' && sub !== null && !Array.isArray(sub) ? (sub as { readonly [k: string]: Json })['deleted'] : undefined;
    if (typeof deleted !== 'number') return undefined;
    if (deleted > 0) wrote = true;
  }
  return wrote;
}
