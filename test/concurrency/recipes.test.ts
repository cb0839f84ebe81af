// The lock and election recipes' pure parts (core/concurrency) against a real in-memory
// MVCC store: the keys etcd lays out, what each txn decides, who waits for whom, and —
// as a property — that at any moment exactly the oldest contender holds the lock.
import test from 'ava';
import fc from 'fast-check';
import { isEtcdError } from '../../core/errors.js';
import { MemoryBackend } from '../../core/mvcc/backend.js';
import { MvccStore } from '../../core/mvcc/store.js';
import type { RangeRequest, RangeResponse, TxnRequest, TxnResponse } from '../../core/mvcc/types.js';
import {
  campaignStart, campaignTxn, leaderOf, proclaimTxn, resignTxn,
} from '../../core/concurrency/election.js';
import { firstCreated, newestCreatedBefore, ownKey, prefixRangeEnd, recipePrefix } from '../../core/concurrency/keys.js';
import { lockStart, lockTxn, nextToAwait } from '../../core/concurrency/mutex.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

class Store {
  private index = 0;
  readonly store = new MvccStore(new MemoryBackend(), { leaseExists: () => true });
  txn(request: TxnRequest): TxnResponse {
    const r = this.store.txn(request, ++this.index);
    if (isEtcdError(r)) throw new Error(r.message);
    return r;
  }
  range(request: RangeRequest): RangeResponse {
    const r = this.store.range(request);
    if (isEtcdError(r)) throw new Error(r.message);
    return r;
  }
  delete(key: Uint8Array): void {
    const r = this.store.deleteRange({ key }, ++this.index);
    if (isEtcdError(r)) throw new Error(r.message);
  }
}

test('keys: `<name>/<lease in hex>` as Go prints an int64 with %x; prefix range ends', (t) => {
  const prefix = recipePrefix(enc('door'));
  t.is(dec(prefix), 'door/');
  t.is(dec(ownKey(prefix, 4503599627370501n)), 'door/10000000000005');
  t.is(dec(ownKey(prefix, 255n)), 'door/ff');
  t.is(dec(ownKey(prefix, -1n)), 'door/-1');
  t.is(dec(ownKey(prefix, 2n ** 62n + 12345n)), 'door/4000000000003039', 'exact beyond 2^53');
  t.is(dec(ownKey(prefix, -(2n ** 63n))), 'door/-8000000000000000');
  t.is(dec(ownKey(recipePrefix(enc('')), 26n)), '/1a', 'an empty name gives the prefix "/", as on etcd');
  t.is(dec(prefixRangeEnd(enc('door/'))), 'door0');
  t.deepEqual([...prefixRangeEnd(new Uint8Array([0x61, 0xff]))], [0x62]);
  t.deepEqual([...prefixRangeEnd(new Uint8Array([0xff, 0xff]))], [0]);
  t.throws(() => ownKey(enc('door'), 1n), { message: /ends with "\/"/ });
  t.throws(() => newestCreatedBefore(prefix, 1), { message: /at least 2/ });
});

test('mutex: the first contender holds; the next waits for the newest older key; the same lease locks once', (t) => {
  const s = new Store();
  const prefix = recipePrefix(enc('door'));
  const [a, b, c] = [ownKey(prefix, 1n), ownKey(prefix, 2n), ownKey(prefix, 3n)];
  const first = lockStart(s.txn(lockTxn(prefix, a, 1n)));
  t.deepEqual(first, { myRev: 2, holds: true });
  t.deepEqual(lockStart(s.txn(lockTxn(prefix, a, 1n))), { myRev: 2, holds: true }, 'locking again with the same lease is one acquisition');
  const second = lockStart(s.txn(lockTxn(prefix, b, 2n)));
  const third = lockStart(s.txn(lockTxn(prefix, c, 3n)));
  t.deepEqual([second, third], [{ myRev: 3, holds: false }, { myRev: 4, holds: false }]);
  // Each waiter awaits only the contender just before it, not the holder.
  t.is(dec(nextToAwait(s.range(newestCreatedBefore(prefix, third.myRev))) ?? enc('none')), 'door/2');
  t.is(dec(nextToAwait(s.range(newestCreatedBefore(prefix, second.myRev))) ?? enc('none')), 'door/1');
  s.delete(b); // the middle waiter gives up: the third now waits for the holder
  t.is(dec(nextToAwait(s.range(newestCreatedBefore(prefix, third.myRev))) ?? enc('none')), 'door/1');
  s.delete(a);
  t.is(nextToAwait(s.range(newestCreatedBefore(prefix, third.myRev))), null, 'nobody older is left: the third holds');
  // A key of another name that sorts inside the prefix's neighbourhood does not count.
  s.txn(lockTxn(recipePrefix(enc('doo')), ownKey(recipePrefix(enc('doo')), 9n), 9n));
  t.is(nextToAwait(s.range(newestCreatedBefore(prefix, third.myRev))), null);
});

test('election: campaign, proclaim and resign are guarded by the create revision the leader won with', (t) => {
  const s = new Store();
  const prefix = recipePrefix(enc('chair'));
  const key = ownKey(prefix, 7n);
  const won = campaignStart(s.txn(campaignTxn(key, enc('alice'), 7n)), enc('alice'));
  t.deepEqual(won, { rev: 2, proclaim: false });
  t.deepEqual(campaignStart(s.txn(campaignTxn(key, enc('alice'), 7n)), enc('alice')), { rev: 2, proclaim: false });
  t.deepEqual(campaignStart(s.txn(campaignTxn(key, enc('alice2'), 7n)), enc('alice2')), { rev: 2, proclaim: true },
    'the same lease with another value: the key stays, the value is to be proclaimed');
  const leader = { key, rev: won.rev, leaseId: 7n };
  t.true(s.txn(proclaimTxn(leader, enc('alice3'))).succeeded);
  t.is(dec(leaderOf(s.range(firstCreated(prefix)))?.value ?? enc('')), 'alice3');
  t.false(s.txn(proclaimTxn({ ...leader, rev: 1 }, enc('x'))).succeeded, 'a stale rev does not lead');
  t.true(s.txn(resignTxn(leader)).succeeded);
  t.is(leaderOf(s.range(firstCreated(prefix))), null, 'nobody campaigns any more');
  // Campaigning again makes a new key at a new revision: the old LeaderKey no longer leads.
  s.txn(campaignTxn(key, enc('again'), 7n));
  t.false(s.txn(proclaimTxn(leader, enc('x'))).succeeded);
  t.false(s.txn(resignTxn(leader)).succeeded);
});

test('property: whatever joins and leaves, exactly the oldest contender present sees nobody to await', (t) => {
  let checks = 0;
  const step = fc.oneof(
    fc.record({ kind: fc.constant('join' as const), lease: fc.integer({ min: 1, max: 6 }) }),
    fc.record({ kind: fc.constant('leave' as const), lease: fc.integer({ min: 1, max: 6 }) }),
  );
  fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
    const s = new Store();
    const prefix = recipePrefix(enc('m'));
    const revs = new Map<number, number>();
    for (const st of steps) {
      const key = ownKey(prefix, BigInt(st.lease));
      if (st.kind === 'join') revs.set(st.lease, lockStart(s.txn(lockTxn(prefix, key, BigInt(st.lease)))).myRev);
      else if (revs.delete(st.lease)) s.delete(key);
      if (revs.size === 0) continue;
      const holders = [...revs].filter(([, rev]) => nextToAwait(s.range(newestCreatedBefore(prefix, rev))) === null);
      const oldest = Math.min(...revs.values());
      if (holders.length !== 1 || holders[0]?.[1] !== oldest) return false;
      checks++;
    }
    return true;
  }), { seed: 15, numRuns: 200 });
  t.true(checks > 500, `the property looked at enough states (${checks})`);
});
