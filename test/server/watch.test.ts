// Watch streams on the server: opened on any member, fed after every applied entry,
// refusing bad creates as etcd does, notifying progress on the server's timer, and
// keeping their place when a snapshot replaces a lagging member's store.
import test from 'ava';
import type { EtcdServer } from '../../core/server/server.js';
import type { WatchResponse } from '../../core/watch/watchHub.js';
import { call, dec, enc, ok, ServerCluster } from './cluster.js';


function put(c: ServerCluster, via: EtcdServer, key: string, value: string): number {
  return ok(call(c, via.put.bind(via), { key: enc(key), value: enc(value) })).header.revision;
}

function follower(c: ServerCluster, leader: EtcdServer): EtcdServer {
  const f = [...c.servers.values()].find((s) => s !== leader);
  if (f === undefined) throw new Error('no follower');
  return f;
}

/** Each event as "TYPE key=value@rev", in arrival order. */
function events(responses: readonly WatchResponse[], watchId: number): string[] {
  return responses.filter((r) => r.watchId === watchId).flatMap((r) =>
    r.events.map((e) => `${e.type} ${dec(e.kv.key)}=${dec(e.kv.value)}@${e.kv.modRevision}`));
}

test('a watcher on a follower sees every write made through the leader, after its created response', (t) => {
  const c = new ServerCluster([1, 2, 3]);
  const leader = c.elect();
  const f = follower(c, leader);
  const got: WatchResponse[] = [];
  const stream = f.openWatchStream((rs) => got.push(...rs));
  stream.watch({ key: enc('a'), rangeEnd: enc('b') });
  t.deepEqual(got.map((r) => [r.watchId, r.created]), [[0, true]]);
  put(c, leader, 'a1', 'x');
  put(c, leader, 'zz', 'ignored');
  put(c, leader, 'a2', 'y');
  c.run(5);
  t.deepEqual(events(got, 0), ['put a1=x@2', 'put a2=y@4']);
  stream.cancel(0);
  t.like(got.at(-1), { watchId: 0, canceled: true });
  put(c, leader, 'a3', 'z');
  c.run(5);
  t.deepEqual(events(got, 0), ['put a1=x@2', 'put a2=y@4'], 'nothing after cancel');
});

test('a future start revision waits for the store; history replays from a past one', (t) => {
  const c = new ServerCluster([1]);
  const s = c.elect();
  put(c, s, 'k', 'v2');
  const got: WatchResponse[] = [];
  const stream = s.openWatchStream((rs) => got.push(...rs));
  stream.watch({ key: enc('k'), startRevision: 5 });
  stream.watch({ key: enc('k'), startRevision: 2 });
  for (const v of ['v3', 'v4', 'v5']) put(c, s, 'k', v);
  c.run(3);
  t.deepEqual(events(got, 0), ['put k=v5@5']);
  t.deepEqual(events(got, 1), ['put k=v2@2', 'put k=v3@3', 'put k=v4@4', 'put k=v5@5']);
});

test('bad creates are refused as etcd does: a negative start, a duplicate watch id', (t) => {
  const c = new ServerCluster([1]);
  const s = c.elect();
  const got: WatchResponse[] = [];
  const stream = s.openWatchStream((rs) => got.push(...rs));
  stream.watch({ key: enc('k'), startRevision: -1 });
  stream.watch({ key: enc('k'), watchId: 7 });
  stream.watch({ key: enc('k'), watchId: 7 });
  stream.watch({ key: enc('k') });
  t.like(got[0], { watchId: -1, created: true, canceled: true, cancelReason: 'etcdserver: mvcc: required revision has been compacted' });
  t.like(got[1], { watchId: 7, created: true, canceled: false });
  t.like(got[2], { watchId: 7, created: true, canceled: true, cancelReason: 'mvcc: duplicate watch ID provided on the WatchStream' });
  t.like(got[3], { watchId: 0, created: true, canceled: false });
  stream.cancel(42);
  t.is(got.length, 4, 'canceling an unknown id sends nothing');
});

test('progress notifications go to idle watchers that asked, on the server\'s interval', (t) => {
  const c = new ServerCluster([1], { watchProgressNotifyIntervalMs: 1000 });
  const s = c.elect();
  const got: WatchResponse[] = [];
  const stream = s.openWatchStream((rs) => got.push(...rs));
  stream.watch({ key: enc('idle'), progressNotify: true });
  stream.watch({ key: enc('busy'), progressNotify: true });
  stream.watch({ key: enc('quiet') });
  got.length = 0;
  put(c, s, 'busy', '1');
  c.run(10);
  const progress = got.filter((r) => r.events.length === 0 && !r.created && !r.canceled);
  t.deepEqual(progress.map((r) => r.watchId), [0], 'only the idle watcher that asked');
  t.is(progress[0]?.revision, 2);
  got.length = 0;
  stream.requestProgress();
  t.like(got[0], { watchId: -1, revision: 2, events: [] });
});

test('a watcher keeps its place when a snapshot replaces its member\'s store', (t) => {
  const c = new ServerCluster([1, 2, 3], { snapshotEveryEntries: 5, catchUpEntries: 1 });
  const leader = c.elect();
  const f = follower(c, leader);
  const got: WatchResponse[] = [];
  const stream = f.openWatchStream((rs) => got.push(...rs));
  stream.watch({ key: enc('k'), prevKv: true });
  put(c, leader, 'k', 'before');
  c.run(3);
  // Cut the follower off while the log moves far past it and is compacted.
  c.down.add(f.memberId);
  for (let i = 0; i < 20; i++) put(c, leader, 'k', `v${i}`);
  c.down.delete(f.memberId);
  c.run(30);
  t.is(f.machine.store.currentRevision(), leader.machine.store.currentRevision(), 'caught up');
  const seen = events(got, 0);
  t.is(seen.length, 21, 'every write, none twice, across the snapshot');
  t.deepEqual(seen.slice(0, 2), ['put k=before@2', 'put k=v0@3']);
  t.is(seen.at(-1), 'put k=v19@22');
});
