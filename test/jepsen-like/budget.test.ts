// Out of budget means unknown, never ok, and never a lie about illegal.
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkOperations } from '../../jepsen-like/check.js';
import { etcdRegisterModel } from '../../jepsen-like/models/etcd-register.js';
import { parsePorcupineRegister } from '../../jepsen-like/parse/porcupine-register.js';

const hard = parsePorcupineRegister(
  readFileSync(path.join(process.cwd(), 'test/fixtures/histories/porcupine/jepsen/etcd_002.log'), 'utf8'),
);

/** A clock that moves 1 ms each time it is read, so the test does not depend on the machine. */
function tickingClock(): () => number {
  let t = 0;
  return () => t++;
}

test('a hard history with a tiny time budget is unknown', (t) => {
  const result = checkOperations(etcdRegisterModel, hard, { timeoutMs: 5, now: tickingClock() });
  t.is(result.verdict, 'unknown');
  t.like(result, { cause: 'timeout' });
});

test('a hard history with a tiny memory budget is unknown', (t) => {
  const result = checkOperations(etcdRegisterModel, hard, { maxCacheEntries: 10 });
  t.deepEqual(result, { verdict: 'unknown', parts: 1, cause: 'memory' });
});

test('the same history with enough budget is ok', (t) => {
  t.is(checkOperations(etcdRegisterModel, hard, { timeoutMs: 600_000 }).verdict, 'ok');
});
