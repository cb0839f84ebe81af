// The viewer's replay engine (sim/replay/) against the simulator's CLI: the trace hash
// at any event index is the one the CLI's own trace gives for the same run; going back
// is exact; a fork (the original options plus a fault script) replays exactly from its
// URL hash alone.
import test from 'ava';
import { Replay } from '../../sim/replay/replay.js';
import { formatHash, parseHash, specOf } from '../../sim/replay/runSpec.js';
import { nextMark, survey } from '../../sim/replay/survey.js';
import { specFromTrace } from '../../sim/replay/traceSpec.js';
import { cliHashes, cliTraceText } from './cliTrace.js';

const SEED17 = specOf({ seed: 17, nodes: 5, timeMs: 3000 });

test('the trace hash at any event index is what the CLI computes for the same run', (t) => {
  const cli = cliHashes(SEED17);
  const replay = new Replay(SEED17);
  const last = cli.byIndex.length - 1;
  t.true(last > 5000, `a 3 s, 5-member run has thousands of events (got ${last})`);
  for (const index of [0, 1, 2, 499, 500, 4321, last]) {
    replay.seek(index);
    t.is(replay.position, index);
    t.is(replay.frame().traceHash, cli.byIndex[index] ?? "missing", `hash at event ${index}`);
  }
  t.true(replay.atEnd, 'the last index is the end of the run');
  t.is(replay.frame().traceHash, cli.printed, 'the end is the hash the CLI printed');
  // Going back re-executes from the start; the hash there is still the CLI's.
  replay.seek(777);
  t.is(replay.frame().traceHash, cli.byIndex[777] ?? "missing");
  t.is(replay.reexecutions, 1);
});

test('a Raft-only run with a planted bug replays to the hash the CLI prints', (t) => {
  const spec = specOf({ seed: 3, nodes: 3, timeMs: 2000, workload: 'none', bugs: ['appendWithoutTruncate'] });
  const cli = cliHashes(spec);
  const replay = new Replay(spec);
  replay.seek(Number.MAX_SAFE_INTEGER);
  t.is(replay.frame().traceHash, cli.printed);
  t.is(replay.position, cli.byIndex.length - 1);
  t.is(replay.frame().members[0]?.kv, null, 'no KV state without the kv workload');
  t.not(replay.frame().members[0]?.chain, null, 'the hash chain instead');
});

test('going back 200 events and forward again gives identical frames', (t) => {
  const replay = new Replay(SEED17);
  replay.seek(1500);
  const forward = [replay.frame()];
  for (let i = 0; i < 200; i++) {
    t.true(replay.previous());
  }
  t.is(replay.position, 1300);
  const back = replay.frame();
  for (let i = 0; i < 200; i++) {
    t.true(replay.next());
  }
  t.is(replay.position, 1500);
  t.deepEqual(replay.frame(), forward[0]);
  // The frame at 1300 is the one a fresh run makes there.
  const fresh = new Replay(SEED17);
  fresh.seek(1300);
  t.deepEqual(fresh.frame(), back);
  t.true(back.members.some((m) => m.role === 'leader' || m.term > 0), 'the cluster has done something by then');
});

test('a fork is the original run plus a fault script, and its URL hash replays it exactly', (t) => {
  const replay = new Replay(SEED17);
  replay.seek(2000);
  const original = replay.frame();
  const up = original.members.find((m) => m.state === 'up');
  if (up === undefined) return t.fail('some member is up at event 2000');
  const forked = replay.fork('crash', up.id);
  if (forked === null) return t.fail('the run is not over at 2000');
  t.deepEqual(forked.script, [{ eventIndex: 2000, action: 'crash', node: up.id, peer: 0 }]);
  const atFork = replay.frame();
  t.is(atFork.members.find((m) => m.id === up.id)?.state, 'down', 'the clicked member is crashed at once');
  t.not(atFork.traceHash, original.traceHash, 'the fork parts from the original at the action');
  replay.seek(3000);
  const later = replay.frame();

  const hash = formatHash(forked);
  t.regex(hash, new RegExp(`fork=2000:crash:${up.id}`));
  const parsed = parseHash(hash);
  if (!parsed.ok) return t.fail(parsed.error);
  t.deepEqual(parsed.spec, forked);
  const reopened = new Replay(parsed.spec);
  reopened.seek(2000);
  t.deepEqual(reopened.frame(), atFork);
  reopened.seek(3000);
  t.deepEqual(reopened.frame(), later);
  // Going back over the fork point and forward again still follows the fork.
  replay.seek(1990);
  const before = new Replay(SEED17);
  before.seek(1990);
  t.deepEqual(replay.frame(), before.frame(), 'before the fork point the fork is the original');
  replay.seek(3000);
  t.deepEqual(replay.frame(), later);
});

test('cutting and healing a link are fork actions too', (t) => {
  const replay = new Replay(SEED17);
  replay.seek(1000);
  const cut = replay.fork('cut', 1, 2);
  if (cut === null) return t.fail('the run is not over at 1000');
  const blocked = replay.frame().blocked;
  t.true(blocked.some(([a, b]) => a === 1 && b === 2) && blocked.some(([a, b]) => a === 2 && b === 1), 'both directions cut');
  replay.seek(1400);
  const healed = replay.fork('heal', 2, 1);
  if (healed === null) return t.fail('the run is not over at 1400');
  t.false(replay.frame().blocked.some(([a, b]) => (a === 1 && b === 2) || (a === 2 && b === 1)), 'the link is whole again');
  t.regex(formatHash(healed), /fork=1000:cut:1-2,1400:heal:2-1/);
  replay.seek(2500);
  const later = replay.frame();
  const parsed = parseHash(formatHash(healed));
  if (!parsed.ok) return t.fail(parsed.error);
  const reopened = new Replay(parsed.spec);
  reopened.seek(2500);
  t.deepEqual(reopened.frame(), later);
});

test('checkpoints past the frame bound keep their hash, and scrubbing falls back to the last framed one', (t) => {
  const replay = new Replay(SEED17, { checkpointEvery: 100, checkpointFramesMax: 5 });
  replay.seek(2000);
  t.is(replay.checkpointBefore(250).index, 200, 'a framed checkpoint');
  t.is(replay.checkpointBefore(1999).index, 400, 'checkpoints 0..400 hold frames; later ones only hashes');
  t.is(replay.checkpointBefore(1999).frame.index, 400);
  // Going back re-executes and checks the hash-only checkpoints on the way.
  replay.seek(1500);
  t.is(replay.reexecutions, 1);
  t.is(replay.frame().index, 1500);
});

test('a survey finds elections, commits and faults, and jumps land on them', (t) => {
  const found = survey(SEED17, () => performance.now());
  t.true(found.marks.election.length >= 1);
  t.true(found.marks.commit.length >= 10);
  t.true(found.marks.fault.length >= 1, 'seed 17 draws faults');
  const replay = new Replay(SEED17);
  const firstElection = nextMark(found, 'election', 0);
  if (firstElection === null) return t.fail('an election');
  replay.seek(firstElection);
  t.true(replay.frame().members.some((m) => m.role === 'leader'), 'a leader right after the election mark');
  replay.seek(firstElection - 1);
  t.is(nextMark(found, 'election', replay.position), firstElection);
  replay.seek(Number.MAX_SAFE_INTEGER);
  t.is(replay.position, found.events);
  t.is(replay.frame().traceHash, found.traceHash);
});

test('a trace file written by the CLI opens the same run, and its recorded hash checks the replay', (t) => {
  for (const spec of [SEED17, specOf({ seed: 11, nodes: 3, timeMs: 2000, workload: 'none', bugs: ['appendWithoutTruncate'] })]) {
    const parsed = specFromTrace(cliTraceText(spec));
    if (!parsed.ok) return t.fail(parsed.error);
    t.deepEqual(parsed.spec, spec);
    const replay = new Replay(parsed.spec);
    replay.seek(Number.MAX_SAFE_INTEGER);
    t.is(replay.frame().traceHash, parsed.facts.traceHash);
    t.is(replay.position, parsed.facts.events);
  }
  const notResult = specFromTrace('{"seq":0,"t_us":1,"kind":"tick","node":1}\n');
  t.false(notResult.ok);
  if (!notResult.ok) t.regex(notResult.error, /not a run result/);
  t.false(specFromTrace('garbage').ok);
});

test('URL hashes: defaults, round trips and clear errors', (t) => {
  const parsed = parseHash('#seed=17&nodes=5');
  t.true(parsed.ok);
  if (parsed.ok) t.deepEqual(parsed.spec, specOf({ seed: 17, nodes: 5 }));
  const full = specOf({
    seed: 9, nodes: 4, timeMs: 2500, faults: 'none', workload: 'none', bugs: ['commitOldTermByCounting'],
    livenessMs: 4000, script: [
      { eventIndex: 5, action: 'pause', node: 2, peer: 0 }, { eventIndex: 90, action: 'resume', node: 2, peer: 0 },
      { eventIndex: 90, action: 'cut', node: 1, peer: 3 }, { eventIndex: 120, action: 'heal', node: 3, peer: 1 },
    ],
  });
  const again = parseHash(formatHash(full, 77));
  t.true(again.ok);
  if (again.ok) {
    t.deepEqual(again.spec, full);
    t.is(again.at, 77, 'the position shown travels beside the spec');
  }
  const bad: [string, RegExp][] = [
    ['#nodes=5', /needs a seed/],
    ['#seed=x', /seed must be/],
    ['#seed=1&nodes=12', /nodes must be between 1 and 9/],
    ['#seed=1&bug=nope', /bug must be one of/],
    ['#seed=1&fork=5:explode:1', /fork action must look like/],
    ['#seed=1&fork=9:crash:1,5:crash:1', /in event order/],
    ['#seed=1&nodes=3&fork=5:crash:4', /member 4, but the run has 3/],
    ['#seed=1&nodes=3&fork=5:cut:1-4', /member 4, but the run has 3/],
    ['#seed=1&fork=5:cut:2-2', /a link joins two members/],
    ['#seed=1&fork=5:cut:2', /fork action must look like/],
    ['#seed=1&fork=5:crash:2-3', /fork action must look like/],
    ['#seed=1&colour=red', /unknown field 'colour'/],
  ];
  for (const [hash, message] of bad) {
    const result = parseHash(hash);
    t.false(result.ok, hash);
    if (!result.ok) t.regex(result.error, message, hash);
  }
});
