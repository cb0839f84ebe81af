// `npm run bench:server:node` is a benchmark, not a test: this only runs its gateway cases for
// a second against real etcd and Tern and checks that each produced a row of successful
// operations (no errors, some ops/s for both servers) — so a broken gateway client,
// prefill or case wiring shows up here, not first on the day someone runs the benchmark.
// It asserts nothing about speed.
import test from 'ava';
import { benchBasePort, runScript } from './processes.js';
import { createServer } from 'node:net';

/** Whether 127.0.0.1:port can be bound now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => { resolve(false); });
    server.listen(port, '127.0.0.1', () => { server.close(() => { resolve(true); }); });
  });
}

/**
 * A base port for the benchmark, whose clusters use base + 100·k and base + 100·k + 1
 * (k = 1..4 for two cases on one member): a random one whose ports are free now, so that
 * two checkouts testing at once do not collide on the default 23800.
 */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = benchBasePort();
    const ports = [1, 2, 3, 4].flatMap((k) => [base + 100 * k, base + 100 * k + 1]);
    const free = await Promise.all(ports.map(bindable));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free base port for bench:server');
}

interface Row { readonly etcdOpsPerSecond: number; readonly ternOpsPerSecond: number; readonly line: string }

/** The table row of `name`: `| members | case | etcd ops/s | … | Tern ops/s | … |`. */
function rowOf(stdout: string, name: string): Row | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith(`| 1 | ${name} |`));
  if (line === undefined) return undefined;
  const cells = line.split('|').map((c) => c.trim());
  const number = (cell: string | undefined): number => Number((cell ?? '').replaceAll(',', ''));
  return { etcdOpsPerSecond: number(cells[3]), ternOpsPerSecond: number(cells[7]), line };
}

test('bench:server runs gw-put16 and gw-range16 against etcd and Tern without errors', async (t) => {
  const basePort = await freeBasePort();
  const { code, stdout, stderr } = await runScript(t, ['net/bin/bench-server', '--members', '1', '--cases', 'gw-put16,gw-range16',
    '--seconds', '1', '--base-port', String(basePort)]);
  t.is(code, 0, stderr);
  for (const name of ['gw-put16', 'gw-range16']) {
    const row = rowOf(stdout, name);
    if (row === undefined) {
      t.fail(`no ${name} row in:\n${stdout}`);
      continue;
    }
    t.false(row.line.includes('errors:'), row.line);
    t.true(row.etcdOpsPerSecond > 0, row.line);
    t.true(row.ternOpsPerSecond > 0, row.line);
    t.regex(row.line, /client CPU, cores: etcd run \d/, 'the row reports the load generator\'s CPU');
  }
});
