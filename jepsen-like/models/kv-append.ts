// Porcupine's kv model (get / put / append on string keys), P-compositional per
// key: each part holds the ops of one key, so the state is that key's string.
// A key never written reads as "".

import type { Model } from './model.js';
import { hashString } from './model.js';

export interface KvInput {
  readonly f: 'get' | 'put' | 'append';
  readonly key: string;
  /** The written value for put / append; ignored for get. */
  readonly value: string;
}

export interface KvOutput {
  /** The value read by get; ignored for put / append. */
  readonly value: string;
}

export const kvAppendModel: Model<string, KvInput, KvOutput> = {
  name: 'porcupine-kv',
  init: () => '',
  step(state, input, output) {
    switch (input.f) {
      case 'get':
        return output.value === state ? state : undefined;
      case 'put':
        return input.value;
      case 'append':
        return state + input.value;
    }
  },
  stepUnknown(state, input) {
    switch (input.f) {
      case 'get':
        return state;
      case 'put':
        return input.value;
      case 'append':
        return state + input.value;
    }
  },
  equal: (a, b) => a === b,
  hash: hashString,
  readOnly: (input) => input.f === 'get',
  keys: (input) => [input.key],
  describeOperation(input, output) {
    return input.f === 'get'
      ? `get(${JSON.stringify(input.key)}) -> ${output === undefined ? '?' : JSON.stringify(output.value)}`
      : `${input.f}(${JSON.stringify(input.key)}, ${JSON.stringify(input.value)})`;
  },
  describeState: (s) => JSON.stringify(s),
};
