// Membership changes in the core, on an injected clock: --strict-reconfig-check refuses
// before Raft; a change is answered when it applies, or `request timed out` at the first
// expire() after its deadline; requests beyond the waiting limit are refused.
import test from 'ava';
import { etcdError, isEtcdError } from '../../core/errors.js';
import type { NodeDriver } from '../../core/node/driver.js';
import { decodeContextBytes, Membership, type MemberRecord } from '../../core/membership/members.js';
import { MAX_WAITING_CHANGES, Reconfigurer, type ReconfigOutcome } from '../../core/membership/reconfig.js';
import type { ConfChange } from '../../core/raft/types.js';

const [A, B, C] = [0x8e9e05c52164694dn, 0x5b79906609457ea0n, 0x3d8a1b2c4e5f6071n];
const member = (id: bigint, name: string): MemberRecord => ({ id, name, peerUrls: [`http://h${id.toString(16)}:2380`], clientUrls: [], isLearner: false });

interface Harness {
  readonly reconfig: Reconfigurer;
  readonly membership: Membership;
  readonly proposals: ConfChange[];
  /** Moves the member's clock. */
  advance(ms: number): void;
  /** Applies proposal i as Raft would: the membership adopts it, then the reconfigurer settles it. */
  apply(i: number): void;
}

function harness(options: { strict?: boolean; accept?: boolean; names?: readonly string[] } = {}): Harness {
  let now = 1_700_000_000_000;
  const proposals: ConfChange[] = [];
  const accept = options.accept ?? true;
  // The one driver call a Reconfigurer makes.
  const driver = {
    proposeConfChange: (change: ConfChange) => {
      proposals.push(change);
      return accept ? { ok: true } : { ok: false, refusal: 'proposalDropped' };
    },
  } as unknown as NodeDriver;
  const names = options.names ?? ['a', '', ''];
  const membership = new Membership(7n, A, [member(A, names[0] ?? ''), member(B, names[1] ?? ''), member(C, names[2] ?? '')], null);
  const reconfig = new Reconfigurer({
    driver, membership, clock: { nowMs: () => now }, timeoutMs: 7000,
    newMemberId: (urls, seconds) => BigInt(urls.length) * 1_000_000_000_000n + BigInt(seconds),
    validPeerUrl: (url) => url.startsWith('http://'),
    ...(options.strict === undefined ? {} : { strict: options.strict }),
  });
  return {
    reconfig, membership, proposals,
    advance: (ms) => { now += ms; },
    apply: (i) => {
      const context = decodeContextBytes(proposals[i]?.context ?? new Uint8Array());
      if (context === null) throw new Error(`proposal ${i} has no context`);
      membership.apply(context);
      reconfig.settle(context);
    },
  };
}

function collect(): { outcomes: ReconfigOutcome[]; reply: (o: ReconfigOutcome) => void } {
  const outcomes: ReconfigOutcome[] = [];
  return { outcomes, reply: (o) => { outcomes.push(o); } };
}

test('strict (the default): removing the only started voter is refused before Raft', (t) => {
  for (const strict of [undefined, true]) {
    const h = harness(strict === undefined ? {} : { strict });
    const { outcomes, reply } = collect();
    h.reconfig.remove(A, reply);
    t.deepEqual(outcomes, [etcdError('notEnoughStarted')]);
    t.is(h.proposals.length, 0);
  }
});

test('--strict-reconfig-check=false: the same removal is proposed', (t) => {
  const h = harness({ strict: false, accept: false });
  const { outcomes, reply } = collect();
  h.reconfig.remove(A, reply);
  t.deepEqual(outcomes, [etcdError('noLeader')], 'refused by Raft (this stub), not by the check');
  t.is(h.proposals.length, 1);
});

test('an added learner is answered once its change applies, with the id the clock made', (t) => {
  const h = harness({ names: ['a', 'b', 'c'] });
  const { outcomes, reply } = collect();
  h.reconfig.add(['http://new:2380'], true, reply);
  t.is(outcomes.length, 0, 'nothing before the change applies');
  t.is(h.proposals[0]?.type, 'addLearner');
  h.advance(3000);
  h.reconfig.expire();
  t.is(outcomes.length, 0, 'not timed out before its deadline');
  h.apply(0);
  const added = outcomes[0];
  if (added === undefined || isEtcdError(added)) return t.fail(`not added: ${JSON.stringify(added)}`);
  t.is(added.id, 1_000_000_000_000n + 1_700_000_000n, 'the id mixes in the whole seconds of the clock');
  t.true(added.isLearner);
  t.deepEqual(h.membership.learners().length, 1);
  h.advance(10_000);
  h.reconfig.expire();
  t.is(outcomes.length, 1, 'answered once');
});

test('a change that never applies is answered "request timed out" at the first expire after its deadline', (t) => {
  const h = harness({ names: ['a', 'b', 'c'] });
  const { outcomes, reply } = collect();
  h.reconfig.update(B, ['http://moved:2380'], reply);
  h.advance(6999);
  h.reconfig.expire();
  t.is(outcomes.length, 0);
  h.advance(1);
  h.reconfig.expire();
  t.deepEqual(outcomes, [etcdError('timeout')]);
  // Applied late (after its answer): the membership follows Raft, and nothing is answered twice.
  h.apply(0);
  t.deepEqual(h.membership.get(B)?.peerUrls, ['http://moved:2380']);
  t.is(outcomes.length, 1);
  t.is(h.reconfig.waitingCount, 0);
});

test('bad URLs, taken URLs and unknown members are refused with etcd\'s errors', (t) => {
  const h = harness({ names: ['a', 'b', 'c'] });
  const { outcomes, reply } = collect();
  h.reconfig.add([], false, reply);
  h.reconfig.add(['unix:///x'], false, reply);
  h.reconfig.add([`http://h${B.toString(16)}:2380`], false, reply);
  h.reconfig.remove(42n, reply);
  h.reconfig.promote(B, reply);
  t.deepEqual(outcomes, [
    etcdError('memberBadURLs'), etcdError('memberBadURLs'), etcdError('peerURLExist'), etcdError('memberNotFound'), etcdError('memberNotLearner'),
  ]);
  t.is(h.proposals.length, 0);
});

test(`at most ${MAX_WAITING_CHANGES} changes wait; the next is refused "too many requests"`, (t) => {
  const h = harness({ names: ['a', 'b', 'c'] });
  const { outcomes, reply } = collect();
  for (let i = 0; i <= MAX_WAITING_CHANGES; i++) h.reconfig.update(B, [`http://b${i}:2380`], reply);
  t.deepEqual(outcomes, [etcdError('tooManyRequests')]);
  t.is(h.reconfig.waitingCount, MAX_WAITING_CHANGES);
  t.is(h.proposals.length, MAX_WAITING_CHANGES);
});
