// The fork actions the page adds (no browser): client requests, clogs and disk faults in
// the URL hash, replayed by the Node engine. A put is recorded in the KV history and
// judged by the end-of-run verdict; two puts of different values part the trace hash at
// the action; a run without the KV clients refuses puts; the hash round-trips.
import test from 'ava';
import { Replay } from '../../sim/replay/replay.js';
import { formatHash, parseHash } from '../../sim/replay/runSpec.js';
import type { RunSpec } from '../../sim/replay/runSpec.js';
import { survey } from '../../sim/replay/survey.js';

const CALM = '#seed=3&nodes=3&time-ms=2000&faults=none';

function spec(hash: string): RunSpec {
  const parsed = parseHash(hash);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.spec;
}

test('client requests, clogs and disk faults round-trip through the hash', (t) => {
  const hash = `${CALM}&fork=400:put:1:viewer/x=hello,400:read:2:viewer/x,450:read:3:k0..k9,500:clog:1-2,500:diskfull:3,600:rot:2`;
  t.is(formatHash(spec(hash)), hash);
  t.deepEqual(spec(hash).script[0], { eventIndex: 400, action: 'put', node: 1, peer: 0, arg: 'viewer/x=hello' });
});

test('bad client requests are refused with a message that says why', (t) => {
  const refused = (hash: string): string => {
    const parsed = parseHash(hash);
    return parsed.ok ? 'accepted' : parsed.error;
  };
  t.regex(refused(`${CALM}&fork=400:put:1:k1`), /a put takes key=value/);
  t.regex(refused(`${CALM}&fork=400:put:1:k=v=w`), /a put takes key=value/);
  t.regex(refused(`${CALM}&fork=400:read:1:`), /a read takes key or key\.\.end/);
  t.regex(refused(`${CALM}&fork=400:put:1-2:k=v`), /fork action must look like/);
  t.regex(refused(`${CALM}&fork=400:clog:1`), /fork action must look like/);
  t.regex(refused('#seed=3&workload=none&fork=400:put:1:k=v'), /need the KV clients/);
  t.regex(refused(`${CALM}&auth=1&fork=400:put:1:k=v`), /need the KV clients/);
});

test('a put from the page is answered, seen by a later read, recorded in the history and judged', (t) => {
  const forked = spec(`${CALM}&fork=500:put:1:viewer/x=hello,1500:read:2:viewer/x`);
  const replay = new Replay(forked);
  replay.seek(2500);
  const [put, read] = replay.frame().clientOps;
  t.is(put?.outcome, 'ok');
  t.is(read?.outcome, 'ok');
  t.regex(read?.response ?? '', /"value":"hello"/);
  const found = survey(forked, () => performance.now());
  t.true(found.ops.some((op) => op.manual && op.text === 'put viewer/x=hello'), 'on the ops timeline');
  t.is(found.verdict?.linearizable, 'ok', 'the history with the page\'s ops is linearizable');
});

test('two puts of different values part the trace hash at the action', (t) => {
  const at = (value: string): string => {
    const replay = new Replay(spec(`${CALM}&fork=500:put:1:k=${value}`));
    replay.seek(500);
    return replay.frame().traceHash;
  };
  const plain = new Replay(spec(CALM));
  plain.seek(500);
  t.not(at('a'), plain.frame().traceHash, 'the action is hashed');
  t.not(at('a'), at('b'), 'with its text');
});

test('a clog holds a link both ways for a second; a full disk and bit rot reach the member', (t) => {
  const replay = new Replay(spec(`${CALM}&fork=500:clog:1-2,500:diskfull:3`));
  replay.seek(500);
  const frame = replay.frame();
  const ends = frame.clogged.filter(([a, b]) => (a === 1 && b === 2) || (a === 2 && b === 1)).map(([, , untilUs]) => untilUs);
  t.deepEqual(ends, [frame.timeUs + 1_000_000, frame.timeUs + 1_000_000]);
  // Bit rot is seen at recovery: crashed and restarted, the rotted member finds its disk corrupt and refuses to start.
  const rotted = new Replay(spec(`${CALM}&fork=500:rot:2,510:crash:2,520:restart:2`));
  rotted.seek(530);
  t.is(rotted.frame().members.find((m) => m.id === 2)?.state, 'refused');
  t.deepEqual(rotted.frame().violations, [], 'a rotted member is expected to refuse, not a violation');
});
