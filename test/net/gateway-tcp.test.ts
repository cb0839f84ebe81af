// `gateway start`, etcd's L4 proxy: Tern's beside real etcd's, each in front of a cluster
// whose first endpoint is down — the gateway skips it and etcdctl through it answers the
// same. And the bad command lines get a clear refusal.
import test from 'ava';
import { parseGatewayCommand } from '../../net/gateway-tcp/gatewayCommand.js';
import { etcdctl, freePort, startGatewayProcess, startTern, type Running } from './processes.js';

async function throughGateway(kind: 'tern' | 'etcd', member: Running): Promise<string[]> {
  const [dead, listen] = [await freePort(), await freePort()];
  const gateway = await startGatewayProcess(kind, [
    `--endpoints=http://127.0.0.1:${String(dead)},${member.endpoint}`, `--listen-addr=127.0.0.1:${String(listen)}`, '--retry-delay=1m',
  ], `127.0.0.1:${String(listen)}`);
  try {
    const at = gateway.endpoint;
    const outcomes: string[] = [];
    for (const args of [['put', `via-${kind}`, 'v'], ['get', `via-${kind}`, '--print-value-only'], ['endpoint', 'health']]) {
      const o = await etcdctl(at, args);
      outcomes.push(`${String(o.code)} ${(o.stdout + o.stderr).replace(/took = \S+/, 'took').replace(at, 'GATEWAY').trim()}`);
    }
    return outcomes;
  } finally {
    await gateway.stop();
  }
}

test('Tern\'s gateway proxies as etcd\'s does, skipping an endpoint that is down', async (t) => {
  const member = await startTern();
  try {
    const [ours, theirs] = [await throughGateway('tern', member), await throughGateway('etcd', member)];
    t.deepEqual(ours, theirs);
    t.deepEqual(theirs, ['0 OK', '0 v', '0 GATEWAY is healthy: successfully committed proposal: took']);
  } finally {
    await member.stop();
  }
});

const refusal = (argv: readonly string[]): string => {
  const parsed = parseGatewayCommand(argv);
  return typeof parsed === 'string' ? parsed : '';
};

test('gateway command lines: etcd\'s defaults, schemes stripped, bad ones refused', (t) => {
  t.deepEqual(parseGatewayCommand(['start']), { endpoints: ['127.0.0.1:2379'], listenHost: '127.0.0.1', listenPort: 23790, retryDelayMs: 60_000 });
  t.deepEqual(parseGatewayCommand(['start', '--endpoints', 'https://a:1,b:2', '--retry-delay=5s']),
    { endpoints: ['a:1', 'b:2'], listenHost: '127.0.0.1', listenPort: 23790, retryDelayMs: 5000 });
  t.is(typeof parseGatewayCommand(['stop']), 'string');
  t.deepEqual(parseGatewayCommand(['--endpoints=http://localhost:20000', 'start']),
    { endpoints: ['localhost:20000'], listenHost: '127.0.0.1', listenPort: 23790, retryDelayMs: 60_000 }, 'flags before start, as etcd\'s e2e gives them');
  t.is(parseGatewayCommand(['start', '--bogus']), 'Error: unknown flag: --bogus');
  t.is(parseGatewayCommand(['start', '--endpoints']), 'Error: flag needs an argument: --endpoints');
  t.regex(refusal(['start', '--retry-delay=soon']), /invalid duration/);
  t.regex(refusal(['start', '--discovery-srv=example.com']), /DNS discovery/);
  t.regex(refusal(['start', '--endpoints=127.0.0.1:23790']), /should not be the gateway listen addr/);
});
