// Membership changes one server at a time (Raft thesis §4.1): add a voter, remove a
// voter (or learner), add a learner, promote a learner (add it as a voter).
// Pure functions: validate a change against a configuration, apply it, encode it.

import type { ConfChange, ConfChangeType, ConfState, NodeId } from './types.js';

export type ConfChangeCheck = { readonly ok: true; readonly next: ConfState } | { readonly ok: false; readonly reason: string };

function sorted(ids: Iterable<NodeId>): NodeId[] {
  return [...ids].sort((a, b) => a - b);
}

/** The configuration after `change`, or why the change is invalid. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfChangeCheck {
  const id = change.nodeId;
  if (!Number.isSafeInteger(id) || id <= 0) return { ok: false, reason: `invalid node id ${id}` };
  const voters = new Set(conf.voters);
  const learners = new Set(conf.learners);
  switch (change.type) {
    case 'addVoter':
      // Adding an existing voter is a no-op; adding a learner as a voter promotes it.
      learners.delete(id);
      voters.add(id);
      break;
    case 'addLearner':
      // A voter becoming a learner is a demotion: one voter changes, allowed one at a time.
      if (voters.has(id) && voters.size === 1) return { ok: false, reason: 'cannot demote the last voter' };
      voters.delete(id);
      learners.add(id);
      break;
    case 'removeVoter':
      if (voters.has(id) && voters.size === 1) return { ok: false, reason: 'cannot remove the last voter' };
      voters.delete(id);
      learners.delete(id);
      break;
  }
  return { ok: true, next: { voters: sorted(voters), learners: sorted(learners) } };
}

const TYPE_CODES: Record<ConfChangeType, number> = { addVoter: 1, removeVoter: 2, addLearner: 3 };
const TYPES_BY_CODE: ReadonlyMap<number, ConfChangeType> = new Map([[1, 'addVoter'], [2, 'removeVoter'], [3, 'addLearner']]);

/**
 * Nine bytes: the type code, then the node id as a 64-bit float (exact for safe
 * integers); then the context, if any, to the end.
 */
export function encodeConfChange(change: ConfChange): Uint8Array {
  const context = change.context ?? new Uint8Array(0);
  const bytes = new Uint8Array(9 + context.byteLength);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, TYPE_CODES[change.type]);
  view.setFloat64(1, change.nodeId);
  bytes.set(context, 9);
  return bytes;
}

export function decodeConfChange(data: Uint8Array): ConfChange | null {
  if (data.byteLength < 9) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const type = TYPES_BY_CODE.get(view.getUint8(0));
  const nodeId = view.getFloat64(1);
  if (type === undefined || !Number.isSafeInteger(nodeId)) return null;
  return data.byteLength === 9 ? { type, nodeId } : { type, nodeId, context: data.slice(9) };
}
