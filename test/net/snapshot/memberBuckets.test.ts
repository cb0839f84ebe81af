// The `members` bucket in etcd 3.4's bytes: the key and value below were read out of a
// snapshot real etcd 3.4.23 took of a one-member cluster on this machine.
import test from 'ava';
import { memberJson, membersBucket } from '../../../net/snapshot/memberBuckets.js';

const etcdMember = {
  id: 7383792418829112008n, name: 'default', isLearner: false,
  peerUrls: ['http://127.0.0.1:42380'], clientUrls: ['http://127.0.0.1:42379'],
};

test('a member is keyed by its id in hex and valued as Go marshals membership.Member', (t) => {
  const [entry] = membersBucket([etcdMember]);
  t.is(Buffer.from(entry?.[0] ?? []).toString(), '667880157b8812c8');
  t.is(Buffer.from(entry?.[1] ?? []).toString(),
    '{"id":7383792418829112008,"peerURLs":["http://127.0.0.1:42380"],"name":"default","clientURLs":["http://127.0.0.1:42379"]}');
});

test('hex keys have no leading zeros, sort bytewise, and empty attributes are left out as omitempty does', (t) => {
  const keys = membersBucket([
    { ...etcdMember, id: 0xabcn },
    { ...etcdMember, id: 0x1fn },
  ]).map(([k]) => Buffer.from(k).toString());
  t.deepEqual(keys, ['1f', 'abc']);
  t.is(memberJson({ id: 5n, name: '', isLearner: true, peerUrls: ['http://h:1'], clientUrls: [] }),
    '{"id":5,"peerURLs":["http://h:1"],"isLearner":true}');
});
