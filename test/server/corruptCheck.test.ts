// The decisions of etcd 3.4's corruption checks (etcdserver/corrupt.go): which answers
// refuse a start, which raise CORRUPT, and which are only logged.
import test from 'ava';
import { judgeInitial, judgePeriodic, type HashAt, type PeerHash } from '../../core/server/corruptCheck.js';

const at = (hash: number, revision = 11, compactRevision = -1): HashAt => ({ hash, revision, compactRevision });
const peer = (id: string, answer: PeerHash['answer']): PeerHash => ({ id, endpoints: [`http://${id}`], answer });
const hashOf = (id: string, h: HashAt): PeerHash => peer(id, { kind: 'hash', memberId: id, hash: h });

test('initial: equal hashes pass with etcd\'s line', (t) => {
  const v = judgeInitial('a', at(1), [hashOf('b', at(1)), hashOf('c', at(1))]);
  t.is(v.error, null);
  t.deepEqual(v.findings.map((f) => f.msg), ['initial corruption checking passed; no corruption']);
  t.is(v.findings[0]?.plain, 'a succeeded on initial corruption checking: no corruption');
});

test('initial: a different hash at the same compact revision refuses the start', (t) => {
  const v = judgeInitial('a', at(1), [hashOf('b', at(2)), hashOf('c', at(1))]);
  t.is(v.error, 'a found data inconsistency with peers');
  t.deepEqual(v.findings.map((f) => f.msg), ['found different hash values from remote peer']);
  t.is(v.findings[0]?.plain, 'a\'s hash 1 != b\'s hash 2 (revision 11, peer revision 11, compact revision -1)');
});

test('initial: another compact revision, a lagging or compacted peer, an unreachable peer are logged and passed over', (t) => {
  const v = judgeInitial('a', at(1), [
    hashOf('b', at(2, 11, 5)),
    peer('c', { kind: 'futureRev', error: 'etcdserver: mvcc: required revision is a future revision' }),
    peer('d', { kind: 'compacted', error: 'etcdserver: mvcc: required revision has been compacted' }),
    peer('e', { kind: 'failed', error: 'unreachable' }),
  ]);
  t.is(v.error, null);
  t.deepEqual(v.findings.map((f) => f.msg), [
    'found different compact revision values from remote peer',
    'cannot fetch hash from slow remote peer',
    'cannot fetch hash from remote peer; local member is behind',
    'initial corruption checking passed; no corruption',
  ]);
});

test('periodic: agreeing followers raise nothing; lagging ones are not judged by hash alone', (t) => {
  const v = judgePeriodic(at(1, 11, 5), at(1, 11, 5), [hashOf('b', at(1, 11, 5)), hashOf('c', at(9, 10, 4)), peer('d', { kind: 'failed', error: 'x' })]);
  t.false(v.raise);
  t.deepEqual(v.findings.map((f) => f.msg), ['finished peer corruption check']);
  t.deepEqual(v.findings[0]?.fields, { 'number-of-peers-checked': 2 });
});

test('periodic: each of etcd\'s four rules raises CORRUPT', (t) => {
  const cases: [HashAt, HashAt, PeerHash[], string][] = [
    [at(1), at(2), [], 'found hash mismatch'],
    [at(1), at(1), [hashOf('b', at(1, 12))], 'revision from follower must be less than or equal to leader\'s'],
    [at(1, 11, 3), at(1, 11, 3), [hashOf('b', at(7, 11, 4))], 'compact revision from follower must be less than or equal to leader\'s'],
    [at(1), at(1), [hashOf('b', at(2))], 'same compact revision then hashes must match'],
  ];
  for (const [first, second, peers, msg] of cases) {
    const v = judgePeriodic(first, second, peers);
    t.true(v.raise, msg);
    t.is(v.findings[0]?.msg, msg);
  }
});
