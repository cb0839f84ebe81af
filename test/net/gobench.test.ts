// ternbench, the Go load generator behind `npm run bench:server`: built from the repo
// (offline, on Debian's clientv3) and run briefly against one real Tern member. Checks
// that its --json line parses and that its counts agree with what the server holds
// (200 puts on 200 sequential keys leave 200 keys; every watcher gets every put). No
// timing is asserted. The last tests run `npm run bench:server` itself (one case, --quick)
// against real etcd and Tern (and the transport's no-work servers) and check its tables' rows. Skipped where Go or Debian's clientv3 is not installed.
import anyTest, { type TestFn } from 'ava';
import { buildGoBench, goBenchUnavailable, runGoBench } from '../../net/bin/loadgen/goBench.js';
import { benchBasePort, etcdctl, runScript, startTern, type Running, startBoth } from './processes.js';

const unavailable = goBenchUnavailable();
const test = anyTest as TestFn<{ tern: Running; binary: string }>;

if (unavailable !== null) {
  test('ternbench (skipped: no Go toolchain)', (t) => { t.log(unavailable); t.pass(); });
} else {
  test.before(async (t) => {
    const [binary, tern] = await startBoth(buildGoBench(), startTern());
    t.context = { binary, tern };
  });
  test.after.always(async (t) => {
    await t.context.tern.stop();
  });

  /** How many keys the member holds (etcdctl's count, so that binary keys need no printing). */
  async function keyCount(endpoint: string): Promise<number> {
    const out = await etcdctl(endpoint, ['get', '', '--from-key', '--keys-only', '--limit', '1', '-w', 'json']);
    const parsed = JSON.parse(out.stdout) as { count?: number };
    return parsed.count ?? 0;
  }

  test.serial('put --total 200 on 200 sequential keys: 200 ops, no errors, 200 keys in Tern', async (t) => {
    const { binary, tern } = t.context;
    const r = await runGoBench(binary, ['put', '--endpoints', tern.endpoint, '--clients', '16', '--conns', '4', '--total', '200',
      '--key-space-size', '200', '--sequential-keys', '--val-size', '64']);
    t.like(r, { mode: 'put', ops: 200, errors: 0 });
    t.true(r.opsPerSecond > 0 && r.p50Ms > 0 && r.p99Ms >= r.p50Ms, JSON.stringify(r));
    t.regex(r.text, /Summary:\n {2}Total:\t[\d.]+ secs\.[\s\S]*Requests\/sec:[\s\S]*Latency distribution:[\s\S]*99% in/);
    t.is(await keyCount(tern.endpoint), 200);
  });

  test.serial('txn-put and range run their totals without errors', async (t) => {
    const { binary, tern } = t.context;
    const txn = await runGoBench(binary, ['txn-put', '--endpoints', tern.endpoint, '--clients', '8', '--conns', '2', '--total', '50',
      '--txn-ops', '2', '--key-space-size', '1000', '--sequential-keys', '--key-size', '16']);
    t.like(txn, { mode: 'txn-put', ops: 50, errors: 0 });
    for (const consistency of ['l', 's']) {
      const range = await runGoBench(binary, ['range', 'foo', '--endpoints', tern.endpoint, '--clients', '8', '--conns', '2', '--total', '100',
        '--consistency', consistency]);
      t.like(range, { mode: 'range', ops: 100, errors: 0 });
    }
  });

  test.serial('watch-latency: every one of 10 watchers receives each of 50 puts', async (t) => {
    const { binary, tern } = t.context;
    const r = await runGoBench(binary, ['watch-latency', '--endpoints', tern.endpoint, '--watchers', '10', '--conns', '2',
      '--put-total', '50', '--put-rate', '200']);
    t.like(r, { mode: 'watch-latency', puts: 50, events: 500, ops: 500, errors: 0 });
  });

  test.serial('bench:server --quick --cases put1 prints a row with both servers\' figures', async (t) => {
    const { code, stdout, stderr } = await runScript(t, ['net/bin/bench-go', '--members', '1', '--cases', 'put1', '--quick',
      '--base-port', String(benchBasePort())]);
    t.is(code, 0, stderr);
    const row = stdout.split('\n').find((l) => l.startsWith('| put c=1, 1 member (p50 ms) |'));
    t.not(row, undefined, stdout);
    const cells = (row ?? '').split('|').map((c) => c.trim());
    t.true(Number(cells[2]) > 0 && Number(cells[3]) > 0, row);
    t.false((row ?? '').includes('errors'), row);
  });

  test.serial('bench:server --quick --cases ceiling: etcd and the two servers that do no work each answer every put', async (t) => {
    const { code, stdout, stderr } = await runScript(t, ['net/bin/bench-go', '--members', '1', '--cases', 'ceiling', '--quick', '--no-gateway',
      '--base-port', String(benchBasePort())]);
    t.is(code, 0, stderr);
    t.regex(stderr, /grpc-js-null put c=256, 1 member, run 1: [\d,]+ ops\/s, 0 errors/);
    t.regex(stderr, /http2-null put c=256, 1 member, run 1: [\d,]+ ops\/s, 0 errors/);
    for (const server of ['etcd 3.4', 'grpc-js, no work', 'node:http2, no work']) {
      const row = stdout.split('\n').find((l) => l.startsWith(`| ${server}`));
      const puts = Number((row ?? '').split('|')[2]?.trim().replaceAll(',', ''));
      t.true(puts > 0, `${server}: ${String(row)}\n${stdout}`);
    }
  });
}
