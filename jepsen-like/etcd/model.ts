// The etcd KV store as a WGL model over the whole store (no partitioning: the
// global revision couples every key). Used where the revision-directed fast
// path cannot decide, and only viable for small histories.

import type { Model } from '../models/model.js';
import { hashString } from '../models/model.js';
import { ModelStore } from './store.js';
import type { EtcdRequest, EtcdResponse } from './types.js';
import { responseMatches } from './types.js';

export interface EtcdState {
  readonly store: ModelStore;
  readonly digest: string;
  readonly hash: number;
}

function stateOf(store: ModelStore): EtcdState {
  const digest = store.digest();
  return { store, digest, hash: hashString(digest) };
}

/** Applies a request to a copy of the state (ranges need no copy). */
export function applyTo(state: EtcdState, request: EtcdRequest): { state: EtcdState; response: EtcdResponse } {
  if (ModelStore.isReadOnly(request)) return { state, response: state.store.apply(request) };
  const store = state.store.clone();
  const response = store.apply(request);
  return { state: stateOf(store), response };
}

/** The model whose empty store is at `initialRevision` (etcd's is 1). */
export function etcdModelFrom(initialRevision: number): Model<EtcdState, EtcdRequest, EtcdResponse> {
  return { ...etcdModel, init: () => stateOf(new ModelStore({ initialRevision })) };
}

export const etcdModel: Model<EtcdState, EtcdRequest, EtcdResponse> = {
  name: 'etcd',
  init: () => stateOf(new ModelStore()),
  step(state, input, output) {
    const next = applyTo(state, input);
    return responseMatches(next.response, output) ? next.state : undefined;
  },
  stepUnknown: (state, input) => applyTo(state, input).state,
  equal: (a, b) => a.digest === b.digest,
  hash: (s) => s.hash,
  readOnly: (input) => ModelStore.isReadOnly(input),
  describeOperation: (input, output) => `${JSON.stringify(input)} -> ${output === undefined ? '?' : JSON.stringify(output)}`,
  describeState: (s) => s.digest,
};
