// Porcupine's etcd register (the Jepsen etcd-2.0 logs): read / write / cas on
// one register that starts absent. A cas that returned false is an ok op whose
// compare failed; it must linearize where the register differs from `from`.

import type { Model } from './model.js';
import { hashNumber } from './model.js';

/** null = the key is absent. */
export type RegisterValue = number | null;

export type RegisterInput =
  | { readonly f: 'read' }
  | { readonly f: 'write'; readonly value: number }
  | { readonly f: 'cas'; readonly from: number; readonly to: number };

export type RegisterOutput =
  | { readonly f: 'read'; readonly value: RegisterValue }
  | { readonly f: 'write' }
  | { readonly f: 'cas'; readonly succeeded: boolean };

export const etcdRegisterModel: Model<RegisterValue, RegisterInput, RegisterOutput> = {
  name: 'porcupine-register',
  init: () => null,
  step(state, input, output) {
    switch (input.f) {
      case 'read':
        return output.f === 'read' && output.value === state ? state : undefined;
      case 'write':
        return input.value;
      case 'cas': {
        if (output.f !== 'cas') return undefined;
        const matches = state === input.from;
        if (output.succeeded !== matches) return undefined;
        return matches ? input.to : state;
      }
    }
  },
  stepUnknown(state, input) {
    if (input.f === 'write') return input.value;
    if (input.f === 'cas' && state === input.from) return input.to;
    return state;
  },
  equal: (a, b) => a === b,
  hash: (s) => (s === null ? 0x5bd1e995 : hashNumber(s)),
  readOnly: (input) => input.f === 'read',
  describeOperation(input, output) {
    const shown = (v: RegisterValue): string => (v === null ? 'nil' : String(v));
    switch (input.f) {
      case 'read':
        return `read() -> ${output?.f === 'read' ? shown(output.value) : '?'}`;
      case 'write':
        return `write(${input.value})`;
      case 'cas':
        return `cas(${input.from}, ${input.to}) -> ${output?.f === 'cas' ? String(output.succeeded) : '?'}`;
    }
  },
  describeState: (s) => (s === null ? 'nil' : String(s)),
};
