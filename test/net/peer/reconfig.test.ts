// --strict-reconfig-check: on (etcd's default), a change that would leave too few started
// voters is refused before it reaches Raft; off, the same change is proposed.
import test from 'ava';
import { etcdError } from '../../../core/errors.js';
import type { NodeDriver } from '../../../core/node/driver.js';
import { Membership, type MemberRecord } from '../../../net/peer/membership.js';
import { Reconfigurer } from '../../../net/peer/reconfig.js';

const [A, B, C] = [0x8e9e05c52164694dn, 0x5b79906609457ea0n, 0x3d8a1b2c4e5f6071n];
const member = (id: bigint, name: string): MemberRecord => ({ id, name, peerUrls: [`http://h${id.toString(16)}:2380`], clientUrls: [], isLearner: false });

/** Two of three voters never started: removing the started one leaves none started. */
function reconfigurer(strict: boolean | undefined): { reconfig: Reconfigurer; proposed: () => number } {
  let proposals = 0;
  // The one driver call a Reconfigurer makes; refused, so no answer is awaited.
  const driver = { proposeConfChange: () => { proposals++; return { ok: false, refusal: 'proposalDropped' }; } } as unknown as NodeDriver;
  const membership = new Membership(7n, A, [member(A, 'a'), member(B, ''), member(C, '')], null);
  const reconfig = new Reconfigurer({ driver, membership, clusterToken: 't', timeoutMs: 1000, ...(strict === undefined ? {} : { strict }) });
  return { reconfig, proposed: () => proposals };
}

test('strict (the default): removing the only started voter is refused before Raft', async (t) => {
  for (const strict of [undefined, true]) {
    const { reconfig, proposed } = reconfigurer(strict);
    t.is(await reconfig.remove(A), etcdError('notEnoughStarted'));
    t.is(proposed(), 0);
  }
});

test('--strict-reconfig-check=false: the same removal is proposed', async (t) => {
  const { reconfig, proposed } = reconfigurer(false);
  t.is(await reconfig.remove(A), etcdError('noLeader'), 'refused by Raft (this stub), not by the check');
  t.is(proposed(), 1);
});
