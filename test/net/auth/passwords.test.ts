// bcrypt passwords against Go's x/crypto/bcrypt (what etcd 3.4 hashes with): hashes Go
// made verify here, the same password and salt give Go's exact bytes, and bytes past
// the 72nd do not count, in both.

import test from 'ava';
import bcrypt from 'bcryptjs';
import {
  BCRYPT_DEFAULT_COST, effectiveBcryptCost, hashPassword, passwordMatches,
} from '../../../net/auth/passwords.js';
import { stopBcryptThread } from '../../../net/auth/passwordThread.js';

const A72 = 'a'.repeat(72);

/**
 * Made by Go 1.19's golang.org/x/crypto/bcrypt (the copy under /usr/share/gocode that
 * etcd 3.4.23 is built with): bcrypt.GenerateFromPassword([]byte(password), cost).
 */
const GO_HASHES: readonly (readonly [string, string])[] = [
  ['pw', '$2a$04$.LVE6Q5DRnkbipsxEDUWfu3qvgY54PF.p0bDWpTEXBqV2H5wyPjg.'],
  [A72, '$2a$04$UdOmPjSnjMatLIszovij3u6uGF2FCCPwjz9E3P1zQLboMzxMuyprW'],
  [`${A72}bbbbbbbb`, '$2a$04$e7iJ4VxvRBQcgwDqKW9TterodjsKIanJtWTgeHj60E4Tl40912AVu'],
  ['pässwörd✓', '$2a$04$QNdFB06WMUe7n4Se8j92muuOOf9CCqOiVJCOVRyxYGTdU0HQEuvXq'],
  ['', '$2a$04$IpevgdWvlDTgbUYcELIZYOiL8x94B5mArb6l3Bkqlwq5q..EdBgte'],
  ['pw', '$2a$10$R0d9UJFISI6/SRXAvEXWjeDZutkD0CRUj5NBytOdfQHhMsg69dcv2'],
];

/** The 16 salt bytes inside a hash (22 characters after `$2a$NN$`). */
const saltOf = (hash: string): Uint8Array => Uint8Array.from(bcrypt.decodeBase64(hash.slice(7, 29), 16));
const costOf = (hash: string): number => Number(hash.slice(4, 6));

test('a hash made by Go\'s bcrypt verifies, and a wrong password does not', async (t) => {
  for (const [password, hash] of GO_HASHES) {
    t.true(await passwordMatches(password, hash), JSON.stringify(password));
    const wrong = password.length >= 72 ? `b${password.slice(1)}` : `${password}x`;
    t.false(await passwordMatches(wrong, hash), `not ${JSON.stringify(wrong)}`);
  }
});

test('the same password, cost and salt give Go\'s hash byte for byte ($2a$, so etcd verifies ours)', async (t) => {
  for (const [password, hash] of GO_HASHES) {
    t.is(await hashPassword(password, { cost: costOf(hash), salt: saltOf(hash) }), hash, JSON.stringify(password));
  }
});

test('only the first 72 bytes count, as in Go\'s bcrypt (etcd 3.4 accepts any tail after 72 bytes)', async (t) => {
  const goHashOfLong = '$2a$04$e7iJ4VxvRBQcgwDqKW9TterodjsKIanJtWTgeHj60E4Tl40912AVu'; // of A72 + 'bbbbbbbb'
  t.true(await passwordMatches(`${A72}zz`, goHashOfLong));
  t.true(await passwordMatches(A72, goHashOfLong), 'the 72-byte prefix alone');
  t.false(await passwordMatches('a'.repeat(71), goHashOfLong), '71 bytes are not enough');
  // Bytes, not characters: 36 two-byte characters fill the 72.
  const hash = await hashPassword(`${'é'.repeat(36)}tail`, { cost: 4 });
  t.true(await passwordMatches(`${'é'.repeat(36)}other`, hash));
  t.false(await passwordMatches(`${'é'.repeat(35)}e`, hash));
});

test('fresh hashes are $2a$ at the given cost with a random salt, and verify', async (t) => {
  const [one, two] = await Promise.all([hashPassword('secret', { cost: 4 }), hashPassword('secret', { cost: 4 })]);
  t.regex(one, /^\$2a\$04\$[./A-Za-z0-9]{53}$/);
  t.not(one, two, 'salts differ');
  t.true(await passwordMatches('secret', one));
  t.true(await passwordMatches('secret', two));
  t.false(await passwordMatches('Secret', one));
});

test('a malformed hash, or one of a cost Go refuses, matches nothing', async (t) => {
  for (const hash of ['', 'pw', '$2a$04$short', '$3a$04$.LVE6Q5DRnkbipsxEDUWfu3qvgY54PF.p0bDWpTEXBqV2H5wyPjg.',
    '$2a$03$.LVE6Q5DRnkbipsxEDUWfu3qvgY54PF.p0bDWpTEXBqV2H5wyPjg.', '$2a$32$.LVE6Q5DRnkbipsxEDUWfu3qvgY54PF.p0bDWpTEXBqV2H5wyPjg.',
    '$2a$04$.LVE6Q5DRnkbipsxEDUWfu3qvgY54PF.p0bDWpTEXBqV2H5wyPjg.x']) {
    t.false(await passwordMatches('pw', hash), hash);
  }
});

test('--bcrypt-cost outside [4, 31] hashes at 10 with etcd\'s warning; hashPassword refuses such a cost', async (t) => {
  t.deepEqual(effectiveBcryptCost(4), { cost: 4, warning: null });
  t.deepEqual(effectiveBcryptCost(31), { cost: 31, warning: null });
  t.deepEqual(effectiveBcryptCost(3), { cost: BCRYPT_DEFAULT_COST, warning: 'Use default bcrypt-cost 10 instead of the invalid value 3' });
  t.deepEqual(effectiveBcryptCost(40), { cost: BCRYPT_DEFAULT_COST, warning: 'Use default bcrypt-cost 10 instead of the invalid value 40' });
  await t.throwsAsync(hashPassword('pw', { cost: 32 }), { message: 'crypto/bcrypt: cost 32 is outside allowed range (4,31)' });
  await t.throwsAsync(hashPassword('pw', { cost: 4, salt: new Uint8Array(15) }), { instanceOf: RangeError });
});

test('hashing runs off the event loop: the loop turns thousands of times during one cost-12 hash', async (t) => {
  // bcryptjs on the main thread would yield once per 100 ms slice (a handful of turns);
  // on the worker thread the loop spins freely while the hash is made.
  let turns = 0;
  let done = false;
  const spin = (): void => { turns++; if (!done) setImmediate(spin); };
  setImmediate(spin);
  const hash = await hashPassword('pw', { cost: 12 });
  done = true;
  t.true(turns > 1000, `${turns} turns`);
  t.true(await passwordMatches('pw', hash));
});

test('many hashes at once all complete, in any order, on the one thread', async (t) => {
  const passwords = Array.from({ length: 20 }, (_, i) => `pw${i}`);
  const hashes = await Promise.all(passwords.map((password) => hashPassword(password, { cost: 4 })));
  const checks = await Promise.all(passwords.map((password, i) => passwordMatches(password, hashes[(i + 1) % 20] ?? '')));
  t.deepEqual(checks, passwords.map(() => false), 'each hash is its own password\'s');
  t.true((await Promise.all(passwords.map((password, i) => passwordMatches(password, hashes[i] ?? '')))).every(Boolean));
});

test.serial('a thread that dies fails its pending jobs; the next job starts a fresh thread', async (t) => {
  const pending = hashPassword('pw', { cost: 14 });
  await stopBcryptThread();
  await t.throwsAsync(pending, { message: /the bcrypt thread exited/ });
  t.true(await passwordMatches('pw', await hashPassword('pw', { cost: 4 })));
});
