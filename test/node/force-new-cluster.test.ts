// --force-new-cluster (core/node/forceNewCluster.ts): the log write that turns a member
// of a larger cluster into a cluster of one, through committed conf changes.
import test from 'ava';
import { forceNewClusterWrite } from '../../core/node/forceNewCluster.js';
import type { RecoveredLog } from '../../core/node/ports.js';
import { decodeConfChange, encodeConfChange } from '../../core/raft/confchange.js';
import type { ConfChange, Entry } from '../../core/raft/types.js';

const put = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index]) });
const change = (index: number, term: number, c: ConfChange): Entry => ({ index, term, type: 'confChange', data: encodeConfChange(c) });

function recovered(entries: Entry[], commit: number, term: number): RecoveredLog {
  return { hardState: { term, vote: 0, commit }, snapshot: null, entries, truncatedTornTail: false };
}

test('the others are removed by committed conf changes after the whole log, carrying their contexts', (t) => {
  const log = recovered([put(1, 1), change(2, 1, { type: 'addLearner', nodeId: 4 }), put(3, 2), put(4, 2)], 3, 2);
  const forced = forceNewClusterWrite(log, { voters: [1, 2, 3], learners: [] }, 2, (c) => new Uint8Array([c.nodeId]));
  t.deepEqual(forced.removed, [1, 3, 4], 'the voters and the learner added in the log, not this member');
  const { write } = forced;
  t.deepEqual(write.entries.map((e) => [e.index, e.term, e.type]), [[5, 2, 'confChange'], [6, 2, 'confChange'], [7, 2, 'confChange']], 'after entry 4, which was past the commit index: kept');
  t.deepEqual(write.entries.map((e) => decodeConfChange(e.data)), [
    { type: 'removeVoter', nodeId: 1, context: new Uint8Array([1]) },
    { type: 'removeVoter', nodeId: 3, context: new Uint8Array([3]) },
    { type: 'removeVoter', nodeId: 4, context: new Uint8Array([4]) },
  ]);
  t.like(write, { hardState: { term: 2, commit: 7 }, mustSync: true, snapshot: null });
});

test('a member that is not a voter adds itself first; a removal in the log is honoured', (t) => {
  const log = recovered([change(1, 3, { type: 'removeVoter', nodeId: 3 })], 1, 3);
  const forced = forceNewClusterWrite(log, { voters: [2, 3], learners: [5] }, 5, () => undefined);
  t.deepEqual(forced.write.entries.map((e) => decodeConfChange(e.data)), [{ type: 'addVoter', nodeId: 5 }, { type: 'removeVoter', nodeId: 2 }]);
  t.is(forced.write.hardState?.commit, 3);
});

test('a member alone already writes nothing but its commit; the snapshot gives the base configuration', (t) => {
  const alone = forceNewClusterWrite(recovered([put(1, 1)], 1, 1), { voters: [1], learners: [] }, 1, () => undefined);
  t.deepEqual(alone.write.entries, []);
  t.deepEqual(alone.removed, []);
  const fromSnapshot: RecoveredLog = {
    hardState: { term: 4, vote: 0, commit: 10 }, entries: [put(11, 4)], truncatedTornTail: false,
    snapshot: { metadata: { index: 10, term: 4, confState: { voters: [1, 2], learners: [] } }, data: new Uint8Array(0) },
  };
  const forced = forceNewClusterWrite(fromSnapshot, { voters: [9], learners: [] }, 1, () => undefined);
  t.deepEqual(forced.removed, [2]);
  t.is(forced.write.entries[0]?.index, 12);
  t.throws(() => forceNewClusterWrite(fromSnapshot, { voters: [1], learners: [] }, 0, () => undefined));
});
