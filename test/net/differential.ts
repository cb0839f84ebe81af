// The etcdctl KV script both servers must answer alike, and its comparison: shared by
// the plain differential and its TLS run.
import type { ExecutionContext } from 'ava';
import { etcdctl, type Outcome } from './processes.js';

export const SCRIPT: readonly { args: string[]; input?: string }[] = [
  { args: ['put', 'foo', 'bar'] },
  { args: ['get', 'foo'] },
  { args: ['get', 'foo', '-w', 'json'] },
  { args: ['put', 'foo', 'baz', '--prev-kv'] },
  { args: ['get', 'foo', '--rev', '2', '-w', 'json'] },
  { args: ['put', 'fop', '1'] },
  { args: ['put', 'fo', '2'] },
  { args: ['get', 'fo', '--prefix'] },
  { args: ['get', 'fo', '--prefix', '--limit', '2', '-w', 'json'] },
  { args: ['get', 'fo', '--prefix', '--sort-by', 'MODIFY', '--order', 'DESCEND', '--keys-only'] },
  // etcdctl 3.4 has no --count-only (3.5 added it): keys-only exercises the same range.
  { args: ['get', 'fo', '--from-key', '--keys-only', '-w', 'json'] },
  { args: ['put', '', 'x'] },
  { args: ['get', 'foo', '--rev', '100'] },
  { args: ['txn'], input: 'version("foo") = "2"\n\nput foo qux\nget foo\n\nget fo\n\n' },
  { args: ['txn', '-w', 'json'], input: 'value("missing") = ""\n\nput x 1\n\nput y 1\n\n' },
  { args: ['txn'], input: '\nput a 1\nput a 2\n\n\n' },
  { args: ['put', 'k', '--ignore-value'] },
  { args: ['del', 'fo', '--prefix', '--prev-kv'] },
  { args: ['del', 'nothing', '-w', 'json'] },
  { args: ['compaction', '4'] },
  { args: ['get', 'foo', '--rev', '3'] },
  { args: ['compaction', '4'] },
  { args: ['get', 'foo', '--rev', '4', '-w', 'json'] },
  { args: ['endpoint', 'health'] },
];

export function normalize(o: Outcome, endpoint: string): string {
  const keep = (text: string): string => text.split('\n')
    .filter((line) => !line.startsWith('{"level":'))
    .join('\n')
    .replaceAll(endpoint, 'ENDPOINT')
    .replace(/"raft_term":\d+/g, '"raft_term":T')
    // Three-member clusters run on free ports, and ids derive from the peer URLs.
    .replace(/"(cluster_id|member_id)":\d+/g, '"$1":ID')
    .replace(/took = [0-9.]+[µm]?s/g, 'took = D');
  return `exit ${o.code}\n${keep(o.stdout)}\n${keep(o.stderr)}`;
}

/** Runs the script through etcdctl (with `ctlArgs`, e.g. TLS files) on both; every step must read the same. */
export async function compare(t: ExecutionContext, etcdEndpoint: string, ternEndpoint: string, ctlArgs: readonly string[] = []): Promise<void> {
  for (const step of SCRIPT) {
    const fromEtcd = await etcdctl(etcdEndpoint, [...ctlArgs, ...step.args], step.input);
    const fromTern = await etcdctl(ternEndpoint, [...ctlArgs, ...step.args], step.input);
    t.is(normalize(fromTern, ternEndpoint), normalize(fromEtcd, etcdEndpoint), `etcdctl ${step.args.join(' ')}`);
    t.false(fromEtcd.stderr.includes('unknown flag'), `etcdctl knows every flag of ${step.args.join(' ')}`);
  }
}

