// Real etcdctl against real etcd 3.4 and against Tern beyond KV: watch, lease, lock,
// elect, maintenance (hashkv, snapshot, defrag, alarm, move-leader) and auth while it
// is disabled. The same steps run on both sides and the normalized outputs must match.
//
// Normalized: etcdctl's JSON log lines (timestamps, client ids, sizes), raft_term, the
// snapshot path, and lease ids (etcd draws random ones; each side's ids, learned from
// its own `lease grant` output or from lock/elect keys, become LEASE).
import test, { type ExecutionContext } from 'ava';
import { etcdctl, spawnEtcdctl, startEtcd, startEtcdCluster, startTern, startTernCluster, type Outcome, type Running, type RunningCluster, startBoth } from './processes.js';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** One side of the comparison: an endpoint and the lease ids it handed out. */
interface Side {
  readonly name: string;
  readonly server: Running;
  readonly dir: string;
  lease: string;
}

type Step =
  | { readonly kind: 'run'; readonly args: string[]; readonly input?: string }
  /** A long-running etcdctl: start it, run `during`, stop it once `until` holds for its output. */
  | {
    readonly kind: 'child'; readonly args: string[]; readonly during?: string[][]; readonly send?: string[];
    readonly until: (stdout: string) => boolean; readonly exits?: boolean;
  }
  /** A campaigner, then an observer: both hold until stopped. */
  | { readonly kind: 'elect' }
  /** A lock holder and a waiter: the waiter gets the lock only once the holder is gone. */
  | { readonly kind: 'contend' };

const run = (...args: string[]): Step => ({ kind: 'run', args });
const lines = (n: number) => (out: string): boolean => out.split('\n').filter((l) => l !== '').length >= n;

const SCRIPT: readonly Step[] = [
  run('put', 'foo', 'v1'),
  run('put', 'foo', 'v2'),
  run('put', 'fox', 'x'),
  // Watch history and then live events from a known revision (no race with the puts).
  { kind: 'child', args: ['watch', 'fo', '--prefix', '--rev', '2'], until: lines(9) },
  { kind: 'child', args: ['watch', 'foo', '--prev-kv', '--rev', '5'], during: [['put', 'foo', 'v3'], ['del', 'foo']], until: lines(8) },
  { kind: 'child', args: ['watch', 'fo', '--prefix', '-w', 'json', '--rev', '3'], until: (out) => out.includes('"mod_revision":6') },
  { kind: 'child', args: ['watch', '-i'], send: ['watch foo', 'progress'], until: (out) => out.includes('progress notify') },
  // HashKV equals etcd's for the same history (before leases: their ids are in the data).
  run('endpoint', 'hashkv'),
  run('endpoint', 'hashkv', '--rev', '4', '-w', 'json'),
  run('endpoint', 'hashkv', '--rev', '1000'),
  // Compaction: watchers whose history is gone are canceled; the hash skips what is compacted.
  run('compaction', '5'),
  { kind: 'child', args: ['watch', 'foo', '--rev', '3'], until: () => false, exits: true },
  { kind: 'child', args: ['watch', 'foo', '--rev', '5'], until: lines(5) },
  run('endpoint', 'hashkv'),
  run('endpoint', 'hashkv', '--rev', '6'),
  run('endpoint', 'hashkv', '--rev', '5'),
  // Leases.
  run('lease', 'grant', '100'),
  run('put', 'leased', 'x', '--lease', '$LEASE'),
  run('lease', 'timetolive', '$LEASE', '--keys'),
  run('lease', 'timetolive', '$LEASE', '--keys', '-w', 'json'),
  run('lease', 'list'),
  run('lease', 'keep-alive', '--once', '$LEASE'),
  run('lease', 'revoke', '$LEASE'),
  run('get', 'leased'),
  run('lease', 'grant', '1'),
  run('lease', 'grant', '9000000001'),
  run('lease', 'revoke', '1234'),
  run('lease', 'timetolive', '1234'),
  run('lease', 'timetolive', '7fffffffffffffff'),
  run('lease', 'keep-alive', '--once', '20000000000001'),
  run('lease', 'keep-alive', '--once', '1234'),
  run('put', 'k', 'v', '--lease', '1234'),
  run('lease', 'grant', '0'),
  run('lease', 'grant', '-5'),
  run('lease', 'timetolive', '0'),
  run('lease', 'revoke', '0'),
  run('lease', 'keep-alive', '--once', '0'),
  { kind: 'child', args: ['watch', 'a', '--rev', '-3'], until: () => false, exits: true },
  run('move-leader', '0'),
  run('endpoint', 'hashkv', '--rev', '-1'),
  // Lock and election (clientv3/concurrency: leases, txns, ranges, watches).
  run('lock', 'mylock', '--', 'sh', '-c', 'echo held $ETCD_LOCK_KEY $ETCD_LOCK_REV'),
  { kind: 'elect' },
  { kind: 'contend' },
  run('lease', 'grant', '60'),
  { kind: 'child', args: ['lease', 'keep-alive', '$LEASE'], until: lines(1) },
  // Maintenance.
  run('alarm', 'list'),
  run('alarm', 'disarm'),
  run('defrag'),
  run('move-leader', '8e9e05c52164694d'),
  run('move-leader', '1234'),
  run('snapshot', 'save', '$DIR/snap.db'),
  // Auth while disabled: lists are empty, names unknown, enabling needs root.
  run('user', 'list'),
  run('role', 'list'),
  run('user', 'get', 'root'),
  run('user', 'delete', 'bob'),
  run('user', 'grant-role', 'bob', 'r'),
  run('role', 'get', 'r'),
  run('role', 'delete', 'r'),
  run('role', 'grant-permission', 'r', 'read', 'k'),
  run('role', 'add', ''),
  run('auth', 'enable'),
  run('auth', 'disable'),
  run('--user', 'root:x', 'get', 'fox'),
];

function substitute(args: readonly string[], side: Side): string[] {
  return args.map((a) => a.replaceAll('$LEASE', side.lease).replaceAll('$DIR', side.dir));
}

/** Every 16-hex-digit lease id this side showed (lock and elect keys, grants). */
function learnLeases(text: string, side: Side): void {
  const granted = /lease ([0-9a-f]{16}) granted/.exec(text);
  if (granted?.[1] !== undefined) side.lease = granted[1];
}

function normalize(text: string, side: Side): string {
  let out = text.split('\n').filter((line) => !line.startsWith('{"level":')).join('\n')
    .replaceAll(side.server.endpoint, 'ENDPOINT')
    .replaceAll(side.dir, 'DIR')
    .replace(/"raft_term":\d+/g, '"raft_term":T')
    .replace(/"(cluster_id|member_id)":\d+/g, '"$1":ID')
    .replace(/took = [0-9.]+[µm]?s/g, 'took = D')
    // A 100 s lease's remaining TTL: the seconds between grant and ask differ on a loaded machine.
    .replace(/"ttl":(9[0-9]|100),"granted-ttl":100/g, '"ttl":~100,"granted-ttl":100')
    .replace(/remaining\((9[0-9]|100)s\)/g, 'remaining(~100s)');
  // Lease ids: hex (grants, lock/elect keys) and decimal (JSON). Member ids are equal
  // on both sides (computed as etcd does), so only ids other than the member's go.
  out = out.replace(/\b(?!8e9e05c52164694d)[0-9a-f]{16}\b/g, 'LEASE')
    .replace(/(mylock|myelection|contended)\/[0-9a-f]+/g, '$1/LEASE'); // lock/elect keys: %x, no padding
  if (side.lease !== '') out = out.replaceAll(BigInt(`0x${side.lease}`).toString(), 'LEASE');
  return out;
}

function show(o: Outcome, side: Side): string {
  return `exit ${o.code}\n${normalize(o.stdout, side)}\n${normalize(o.stderr, side)}`;
}

async function perform(step: Step, side: Side): Promise<string> {
  const endpoint = side.server.endpoint;
  switch (step.kind) {
    case 'run': {
      const outcome = await etcdctl(endpoint, substitute(step.args, side), step.input);
      learnLeases(outcome.stdout, side);
      return show(outcome, side);
    }
    case 'child': {
      const child = spawnEtcdctl(endpoint, substitute(step.args, side));
      for (const line of step.send ?? []) child.send(line);
      for (const args of step.during ?? []) await etcdctl(endpoint, args);
      await child.waitFor(step.until);
      const arrived = step.until(child.stdout());
      const code = step.exits === true ? await child.exited() : (await child.stop(), 'stopped');
      // Stopped once `until` holds: a last line that etcdctl prints empty (a DELETE's value)
      // may or may not have arrived by then, on either side, so trailing newlines don't count.
      return `${arrived || step.exits === true ? '' : 'TIMED OUT '}exit ${String(code)}\n${normalize(child.stdout(), side).trimEnd()}\n${normalize(child.stderr(), side)}`;
    }
    case 'elect': {
      const campaigner = spawnEtcdctl(endpoint, ['elect', 'myelection', 'proposal1']);
      await campaigner.waitFor(lines(2));
      const observer = spawnEtcdctl(endpoint, ['elect', '-l', 'myelection']);
      await observer.waitFor(lines(2));
      await observer.stop();
      await campaigner.stop();
      return `campaign:\n${normalize(campaigner.stdout(), side)}\nobserve:\n${normalize(observer.stdout(), side)}`;
    }
    case 'contend': {
      const holder = spawnEtcdctl(endpoint, ['lock', 'contended']);
      await holder.waitFor(lines(1));
      const waiter = spawnEtcdctl(endpoint, ['lock', 'contended', '--', 'echo', 'got it']);
      await new Promise((r) => setTimeout(r, 300));
      const whileHeld = waiter.stdout();
      await holder.stop();
      const code = await waiter.exited();
      return `while held: ${JSON.stringify(whileHeld)}\nholder:\n${normalize(holder.stdout(), side)}\nwaiter (exit ${String(code)}):\n${normalize(waiter.stdout(), side)}`;
    }
  }
}

function side(name: string, server: Running): Side {
  return { name, server, dir: mkdtempSync(path.join(tmpdir(), `tern-ctl-${name}-`)), lease: '' };
}

test('etcdctl cannot tell Tern from etcd on watch, lease, lock, elect, maintenance and disabled auth', async (t) => {
  const [etcdServer, ternServer] = await startBoth(startEtcd(), startTern());
  try {
    await compareServices(t, etcdServer, ternServer);
  } finally {
    await etcdServer.stop();
    t.is(await ternServer.stop(), 0);
  }
});

test('the same on three-member clusters, through the leader', async (t) => {
  const [etcdCluster, ternCluster] = await startBoth(startEtcdCluster(3), startTernCluster(3));
  try {
    // Through each cluster's leader: move-leader answers differently on a follower, and
    // which member leads is up to the election.
    const [etcdServer, ternServer] = [await leaderOf(etcdCluster), await leaderOf(ternCluster)];
    if (etcdServer === null || ternServer === null) throw new Error('no leader');
    await compareServices(t, etcdServer, ternServer);
  } finally {
    await Promise.all([etcdCluster.stop(), ternCluster.stop()]);
  }
});

/** The running member that says it is the leader (etcdctl endpoint status). */
async function leaderOf(cluster: RunningCluster): Promise<Running | null> {
  for (const m of cluster.members) {
    const status = await etcdctl(m.endpoint, ['endpoint', 'status', '-w', 'json']);
    // As text: uint64 ids do not survive JSON.parse's numbers.
    const self = /"member_id":(\d+)/.exec(status.stdout)?.[1];
    const leader = /"leader":(\d+)/.exec(status.stdout)?.[1];
    if (self !== undefined && self === leader) return m.running;
  }
  return null;
}

async function compareServices(t: ExecutionContext, etcdServer: Running, ternServer: Running): Promise<void> {
  const etcd = side('etcd', etcdServer);
  const tern = side('tern', ternServer);
  try {
    for (const step of SCRIPT) {
      const label = step.kind === 'elect' || step.kind === 'contend' ? step.kind : step.args.join(' ');
      const [fromEtcd, fromTern] = await Promise.all([perform(step, etcd), perform(step, tern)]);
      t.is(fromTern, fromEtcd, `etcdctl ${label}`);
      t.false(fromEtcd.startsWith('TIMED OUT'), `etcd's output for ${label} arrived`);
      t.false(fromEtcd.includes('unknown flag'), `etcdctl knows every flag of ${label}`);
      if (step.kind === 'contend') t.true(fromEtcd.includes('while held: ""') && fromEtcd.includes('got it'), fromEtcd);
    }
    // Tern's snapshot is a bbolt file laid out as etcd's backend: etcdctl reads it...
    const snap = path.join(tern.dir, 'snap.db');
    t.is(statSync(snap).size % 512, 32);
    const status = (s: Side): Promise<Outcome> => etcdctl(s.server.endpoint, ['snapshot', 'status', path.join(s.dir, 'snap.db'), '-w', 'json']);
    const [etcdStatus, ternStatus] = await Promise.all([status(etcd), status(tern)]);
    const revision = (o: Outcome): unknown => (JSON.parse(o.stdout) as { revision: number }).revision;
    t.is(ternStatus.code, 0, ternStatus.stderr);
    t.is(revision(ternStatus), revision(etcdStatus), 'snapshot status: the same revision as etcd\'s snapshot');
    // ...and restores it into a data directory real etcd boots from with Tern's data.
    const restored = path.join(tern.dir, 'restored');
    const restore = await etcdctl(tern.server.endpoint, ['snapshot', 'restore', snap, '--data-dir', restored]);
    t.is(restore.code, 0, restore.stderr);
    const fromSnapshot = await startEtcd({ dataDir: restored });
    try {
      const hash = (s: Running): Promise<string> =>
        etcdctl(s.endpoint, ['endpoint', 'hashkv', '-w', 'json']).then((o) => String((JSON.parse(o.stdout) as [{ HashKV: { hash: number } }])[0].HashKV.hash));
      t.is(await hash(fromSnapshot), await hash(tern.server), 'etcd restored from a Tern snapshot holds the same MVCC state');
      const get = (s: Running): Promise<string> => etcdctl(s.endpoint, ['get', '', '--prefix']).then((o) => o.stdout);
      t.is(await get(fromSnapshot), await get(tern.server));
    } finally {
      await fromSnapshot.stop();
    }
  } finally {
    for (const s of [etcd, tern]) rmSync(s.dir, { recursive: true, force: true });
  }
}
