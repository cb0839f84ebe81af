// A revision is (main, sub): main counts modifying requests, sub orders the writes
// inside one (a txn with three puts writes main/0, main/1, main/2). Encoded in one
// number, main * 2^20 + sub, so that comparisons and map keys are plain numbers.
// Limits (asserted): sub < 2^20 (a txn is capped at 128 ops per level), main < 2^33.

import { invariant } from '../util/invariant.js';

export const SUB_LIMIT = 1 << 20;
const MAIN_LIMIT = 2 ** 33;

export type Rev = number;

export function rev(main: number, sub: number): Rev {
  invariant(Number.isSafeInteger(main) && main >= 0 && main < MAIN_LIMIT, () => `main revision ${main} out of range`);
  invariant(Number.isSafeInteger(sub) && sub >= 0 && sub < SUB_LIMIT, () => `sub revision ${sub} out of range`);
  return main * SUB_LIMIT + sub;
}

export function mainOf(r: Rev): number {
  return Math.floor(r / SUB_LIMIT);
}

