// Users' passwords as etcd 3.4 keeps them: bcrypt hashes ($2a$, Go's x/crypto/bcrypt) at
// --bcrypt-cost, checked on Authenticate. bcryptjs computes the same function as Go's
// package, byte for byte: both hash the password's UTF-8 bytes plus a trailing NUL and
// cycle over them to fill Blowfish's 72-byte key schedule, so bytes past the 72nd are
// ignored by both (etcd 3.4 accepts `a`×72 + anything for a user whose password is
// `a`×72 + something else; Go's later ErrPasswordTooLong is not in the x/crypto etcd
// 3.4 was built with). test/net/auth/passwords.test.ts pins hashes made by Go.
//
// Hashing costs ~100 ms of CPU at cost 10, so both calls run on a worker thread
// (passwordThread.ts); the event loop only waits for the answer.

import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { onBcryptThread } from './passwordThread.js';

/** Go's bcrypt.MinCost, MaxCost and DefaultCost (etcd's --bcrypt-cost default). */
export const BCRYPT_MIN_COST = 4;
export const BCRYPT_MAX_COST = 31;
export const BCRYPT_DEFAULT_COST = 10;

/** Bytes of salt in a bcrypt hash (Go's maxSaltSize), 22 characters once encoded. */
export const BCRYPT_SALT_BYTES = 16;

/** The length of `$2a$10$` + 22 salt characters + 31 hash characters. */
const BCRYPT_HASH_LENGTH = 60;

/**
 * The cost etcd hashes with for a given --bcrypt-cost: the value if in [4, 31], else
 * etcd's default with the warning etcd logs (auth.NewAuthStore; it does not refuse it).
 */
export function effectiveBcryptCost(cost: number): { readonly cost: number; readonly warning: string | null } {
  if (Number.isInteger(cost) && cost >= BCRYPT_MIN_COST && cost <= BCRYPT_MAX_COST) return { cost, warning: null };
  return { cost: BCRYPT_DEFAULT_COST, warning: `Use default bcrypt-cost ${BCRYPT_DEFAULT_COST} instead of the invalid value ${cost}` };
}

export interface HashOptions {
  /** In [BCRYPT_MIN_COST, BCRYPT_MAX_COST] (effectiveBcryptCost). */
  readonly cost: number;
  /** 16 bytes; fresh random bytes when absent (tests pass one to compare with Go's output). */
  readonly salt?: Uint8Array;
}

/** A `$2a$` hash of `password`, as Go's bcrypt.GenerateFromPassword makes it. */
export async function hashPassword(password: string, options: HashOptions): Promise<string> {
  const { cost } = options;
  if (!Number.isInteger(cost) || cost < BCRYPT_MIN_COST || cost > BCRYPT_MAX_COST) {
    throw new RangeError(`crypto/bcrypt: cost ${cost} is outside allowed range (${BCRYPT_MIN_COST},${BCRYPT_MAX_COST})`);
  }
  const salt = options.salt ?? randomBytes(BCRYPT_SALT_BYTES);
  if (salt.length !== BCRYPT_SALT_BYTES) throw new RangeError(`a bcrypt salt is ${BCRYPT_SALT_BYTES} bytes, got ${salt.length}`);
  // Go writes version 2a (bcryptjs's own salts say 2b; the function is the same).
  const setting = `$2a$${String(cost).padStart(2, '0')}$${bcrypt.encodeBase64(Array.from(salt), BCRYPT_SALT_BYTES)}`;
  return onBcryptThread('hash', password, setting);
}

/**
 * Whether `password` is the one `hash` was made from (Go's CompareHashAndPassword ==
 * nil). A malformed hash, or one of a cost Go refuses, matches nothing.
 */
export async function passwordMatches(password: string, hash: string): Promise<boolean> {
  if (hash.length !== BCRYPT_HASH_LENGTH || !/^\$2[aby]\$\d\d\$/.test(hash)) return false;
  const cost = Number(hash.slice(4, 6));
  if (cost < BCRYPT_MIN_COST || cost > BCRYPT_MAX_COST) return false;
  return await onBcryptThread('compare', password, hash);
}

/** What the Auth service needs of passwords (a member's, at its --bcrypt-cost). */
export interface Passwords {
  hash(password: string): Promise<string>;
  matches(password: string, hash: string): Promise<boolean>;
}

export function bcryptPasswords(cost: number = BCRYPT_DEFAULT_COST): Passwords {
  return { hash: (password) => hashPassword(password, { cost }), matches: passwordMatches };
}
