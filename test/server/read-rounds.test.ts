// Linearizable reads share ReadIndex rounds (core/server/readRounds.ts): the reads since
// the last flush go in one round, a read never joins a round asked before it arrived
// (unless the planted bug reuseReadIndex is on), and every read ends served, failed or
// timed out, within its limit.
import test from 'ava';
import { etcdError, type EtcdError } from '../../core/errors.js';
import { ReadRounds, type WaitingRead } from '../../core/server/readRounds.js';

interface Host {
  readonly rounds: ReadRounds;
  /** What happened, in order: rounds asked and dropped, reads served and failed. */
  readonly log: string[];
  read(name: string, deadlineTick?: number): boolean;
}

function host(options: { maxReads?: number; joinRoundOut?: boolean; answerAtOnce?: boolean } = {}): Host {
  const log: string[] = [];
  let next = 1;
  const rounds: ReadRounds = new ReadRounds(
    { maxReads: options.maxReads ?? 16, ...(options.joinRoundOut === undefined ? {} : { joinRoundOut: options.joinRoundOut }) },
    {
      ask: (context) => {
        log.push(`ask ${context}`);
        // A sole voter answers a ReadIndex within the step that asked for it.
        if (options.answerAtOnce === true) rounds.served(context);
      },
      dropped: (context) => { log.push(`drop ${context}`); },
      newContext: () => `r${next++}`,
    },
  );
  const waiting = (name: string, deadlineTick: number): WaitingRead => ({
    deadlineTick,
    serve: () => { log.push(`${name} served`); },
    fail: (error: EtcdError) => { log.push(`${name} ${error.name}`); },
  });
  return { rounds, log, read: (name, deadlineTick = 100) => rounds.read(waiting(name, deadlineTick)) };
}

test('the reads since the last flush share one round; a read after it waits for the next', (t) => {
  const h = host();
  h.read('a');
  h.read('b');
  t.deepEqual(h.log, [], 'nothing is asked before the flush');
  h.rounds.flush();
  h.read('c');
  h.rounds.flush();
  t.deepEqual(h.log, ['ask r1', 'ask r2'], 'c did not join r1, asked before c arrived');
  h.rounds.served('r2');
  t.deepEqual(h.log.slice(2), ['c served'], 'rounds do not wait for each other');
  h.rounds.served('r1');
  t.deepEqual(h.log.slice(3), ['a served', 'b served']);
  t.is(h.rounds.waiting, 0);
  t.is(h.rounds.roundsOut, 0);
});

test('a flush with nothing waiting asks nothing; an answer to a round not out is ignored', (t) => {
  const h = host();
  h.rounds.flush();
  h.read('a');
  h.rounds.flush();
  h.rounds.served('r1');
  h.rounds.served('r1');
  h.rounds.served('r9');
  t.deepEqual(h.log, ['ask r1', 'a served']);
});

test('a round answered within the ask serves its reads at once (a sole voter)', (t) => {
  const h = host({ answerAtOnce: true });
  h.read('a');
  h.read('b');
  h.rounds.flush();
  t.deepEqual(h.log, ['ask r1', 'a served', 'b served']);
  t.false(h.rounds.has('r1'));
});

test('a failed round fails each of its reads with its error, and only its reads', (t) => {
  const h = host();
  h.read('a');
  h.rounds.flush();
  h.read('b');
  h.rounds.flush();
  h.rounds.failed('r1', etcdError('noLeader'));
  t.deepEqual(h.log, ['ask r1', 'ask r2', 'a noLeader']);
  t.true(h.rounds.has('r2'));
  t.is(h.rounds.waiting, 1);
});

test('a round times out whole when its first read passes its deadline, and is dropped', (t) => {
  const h = host();
  h.read('a', 5);
  h.read('b', 5);
  h.rounds.flush();
  h.read('c', 9);
  h.rounds.flush();
  h.rounds.expire(4);
  t.deepEqual(h.log, ['ask r1', 'ask r2']);
  h.rounds.expire(5);
  t.deepEqual(h.log.slice(2), ['drop r1', 'a timeout', 'b timeout']);
  h.rounds.served('r1');
  t.is(h.log.length, 5, 'a late answer to a dropped round serves nothing');
  h.rounds.served('r2');
  t.deepEqual(h.log.slice(5), ['c served']);
});

test('past the limit a read is refused and nothing is kept; the count frees as rounds end', (t) => {
  const h = host({ maxReads: 2 });
  t.true(h.read('a'));
  t.true(h.read('b'));
  t.false(h.read('c'));
  h.rounds.flush();
  t.false(h.read('d'), 'reads in a round out count too');
  h.rounds.served('r1');
  t.true(h.read('e'));
  h.rounds.flush();
  t.deepEqual(h.log, ['ask r1', 'a served', 'b served', 'ask r2']);
});

test('the planted bug reuseReadIndex: a read joins the round already out', (t) => {
  const h = host({ joinRoundOut: true });
  h.read('a');
  h.rounds.flush();
  h.read('b');
  h.rounds.flush();
  t.deepEqual(h.log, ['ask r1'], 'b joined r1 instead of waiting for a round of its own');
  h.rounds.served('r1');
  t.deepEqual(h.log.slice(1), ['a served', 'b served']);
  h.read('c');
  h.rounds.flush();
  t.deepEqual(h.log.slice(3), ['ask r2'], 'with no round out, a read gets a new one');
});
