// `npm run jepsen` against real Tern members: short kv runs under SIGKILL, partitions
// through the proxies and SIGSTOP, whose every verdict must be ok and which leave no
// member process behind; Ctrl-C stops a run early and still cleans up; the verdict code
// reports a lost acknowledged write planted into a real run's history; and the same
// command run against members with a planted watch fault (TERN_TEST_PLANTED_BUGS) reports
// it. (Members planted with ackBeforeDurable lose acknowledged writes only when a SIGKILL
// lands in the millisecond between an answer and its sync: 2 of 5 runs of 12 s found it,
// too few for a test that must not flake; docs/jepsen-like.md gives the command.)

import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkLinearizable } from '../../jepsen-like/real/verdicts.js';
import { judgeWatches } from '../../jepsen-like/real/watch.js';
import type { WatchStream } from '../../jepsen-like/watch/validate.js';
import { isRunning, memberExits, memberPids, readSummary, startCli, type SummaryJson } from './real-runs.js';

// The runs share two cores with the rest of CI: one at a time.
// --min-writes: however loaded the machine, the verdicts are about some acknowledged writes.
// The watch workload rides along (it runs kv too): its streams are checked in the same runs.
const SHORT = ['--target', 'tern', '--nodes', '3', '--time-s', '5', '--workload', 'kv,watch', '--check-timeout-s', '60', '--min-writes', '20'];

function assertAllOk(t: ExecutionContext, s: SummaryJson, stdout: string): void {
  t.log(stdout);
  t.is(s.verdicts.linearizable.verdict, 'ok');
  t.deepEqual(s.verdicts.lostWrites.lost, []);
  t.true(s.verdicts.revisionMonotonic.ok);
  t.is(s.verdicts.hashKv.ok, true);
  // Undecided is allowed for the watch alone: two unknown writes the history cannot order (watch.ts).
  const watch = s.verdicts.watch;
  t.true(watch !== undefined && watch.streams >= 3 && watch.events > 0 && watch.violations.length === 0, JSON.stringify(watch));
  t.true(watch?.ok === true || (watch?.ok === null && s.result === 'unknown'), JSON.stringify(watch));
  t.not(s.result, 'violation');
  // Not vacuous: writes were acknowledged and read back.
  t.true(s.acknowledgedWrites >= 20 && s.verdicts.lostWrites.checked === s.acknowledgedWrites, JSON.stringify(s));
}

test.serial('kv under SIGKILL and restart: every verdict ok, no member left running; a lost write planted in its history is illegal', async (t) => {
  const run = startCli(t, [...SHORT, '--nemesis', 'kill', '--seed', '11']);
  t.true([0, 3].includes(await run.exited ?? -1), run.stderr());
  const summary = readSummary(run.dir);
  assertAllOk(t, summary, run.stdout());
  t.true((summary.faults['kill'] ?? 0) >= 1, 'a member was killed');
  const pids = memberPids(run.dir);
  t.true(pids.length > 3, 'the killed member was started again');
  t.deepEqual(pids.filter(isRunning), []);
  t.true(readFileSync(path.join(run.dir, 'report.html'), 'utf8').includes('<svg'), 'report.html draws the timeline');
  const history = readFileSync(path.join(run.dir, 'history.jsonl'), 'utf8');
  plantLostWrite(t, history);
  if (summary.verdicts.watch?.ok === true) plantDroppedEvent(t, history, readFileSync(path.join(run.dir, 'watch.jsonl'), 'utf8'));
});

test.serial('kv under partitions and pauses: every verdict ok, dialers identified, no member left running', async (t) => {
  const run = startCli(t, [...SHORT, '--time-s', '7', '--nemesis', 'partition,pause', '--seed', '18']);
  t.true([0, 3].includes(await run.exited ?? -1), run.stderr());
  const summary = readSummary(run.dir);
  assertAllOk(t, summary, run.stdout());
  // Seed 18's plan for 7 s: a partition, a pause, a partition (the plan is a function of the seed).
  t.true((summary.faults['partition'] ?? 0) >= 1 && (summary.faults['pause'] ?? 0) >= 1, JSON.stringify(summary.faults));
  t.is(summary.peerConnections.unidentified, 0);
  t.deepEqual(memberPids(run.dir).filter(isRunning), []);
  const nemesisLog = readFileSync(path.join(run.dir, 'nemesis.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { start: number; end: number });
  t.true(nemesisLog.every((e) => e.end > e.start), 'each fault is logged with its times');
});

test.serial('the kubernetes and lock workloads under SIGKILL and compactions: every verdict ok, locks taken, compactions in the history', async (t) => {
  const run = startCli(t, ['--target', 'tern', '--nodes', '3', '--time-s', '8', '--workload', 'kubernetes,lock', '--nemesis', 'kill,compact',
    '--check-timeout-s', '60', '--min-writes', '20', '--seed', '4']);
  t.true([0, 3].includes(await run.exited ?? -1), run.stderr());
  const summary = readSummary(run.dir);
  t.log(run.stdout());
  t.is(summary.verdicts.linearizable.verdict, 'ok');
  t.deepEqual(summary.verdicts.lostWrites.lost, []);
  t.is(summary.verdicts.hashKv.ok, true);
  t.true(summary.verdicts.lock?.ok === true && summary.verdicts.lock.acquisitions > 0, JSON.stringify(summary.verdicts.lock));
  t.is(summary.verdicts.watch?.violations.length, 0, JSON.stringify(summary.verdicts.watch));
  // Seed 4's plan for 8 s: a kill, then a compaction (the plan is a function of the seed).
  t.true((summary.faults['kill'] ?? 0) >= 1 && (summary.faults['compact'] ?? 0) >= 1, JSON.stringify(summary.faults));
  const history = readFileSync(path.join(run.dir, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { request: { type: string; key?: string } });
  t.true(history.some((r) => r.request.type === 'compact'), 'compactions are in the history');
  t.true(history.some((r) => r.request.key?.startsWith('/registry/pods/') === true), 'the apiserver-like client wrote pods');
  t.deepEqual(memberPids(run.dir).filter(isRunning), []);
});

test.serial('the same run against members planted with a watch that skips revisions reports the lost events, and nothing else', async (t) => {
  const run = startCli(t, [...SHORT, '--nemesis', 'none', '--seed', '5', '--min-writes', '250', '--planted-bug', 'watchSkipsHundredthRevision']);
  t.is(await run.exited, 1, run.stderr());
  const summary = readSummary(run.dir);
  t.log(run.stdout());
  t.is(summary.result, 'violation');
  const violations = summary.verdicts.watch?.violations ?? [];
  t.true(violations.length >= 1 && violations.every((v) => v.property === 'reliable'), JSON.stringify(violations));
  t.true(violations.some((v) => /revision [1-9]00 never arrived/.test(v.message)), JSON.stringify(violations));
  // Only the watch streams are wrong: the kv history itself is fine.
  t.is(summary.verdicts.linearizable.verdict, 'ok');
  t.deepEqual(summary.verdicts.lostWrites.lost, []);
  t.deepEqual(memberPids(run.dir).filter(isRunning), []);
});

test.serial('Ctrl-C (SIGINT to the process group) stops a long run early, still writes its verdicts, and kills every member', async (t) => {
  const run = startCli(t, [...SHORT, '--time-s', '600', '--nemesis', 'pause', '--seed', '7']);
  // Wait for the workload (not for a time): the progress line says when it runs.
  await new Promise<void>((resolve) => {
    const check = (): void => { if (run.stderr().includes('running') || run.child.exitCode !== null) resolve(); else setTimeout(check, 200); };
    check();
  });
  // As a terminal does: SIGINT to the whole process group.
  process.kill(-(run.child.pid ?? 0), 'SIGINT');
  const code = await run.exited;
  t.true(code === 0 || code === 3, `exit ${String(code)}: ${run.stderr()}`);
  t.true(memberPids(run.dir).length >= 3);
  t.deepEqual(memberPids(run.dir).filter(isRunning), []);
  // The members did not see the Ctrl-C (their own group): the tool killed each of them.
  t.deepEqual(memberExits(run.dir).filter((e) => e !== 'SIGKILL'), []);
  t.notThrows(() => readSummary(run.dir));
});

interface Line {
  process: number; call: number; return: number | null; outcome: string;
  request: { type: string; key?: string; value?: string; success?: { type: string; key: string }[] };
  response?: { revision?: number; succeeded?: boolean; deleted?: number; prevKv?: object | null };
}

/** The keys each ok write changed. */
function keysWritten(l: Line): string[] {
  if (l.outcome !== 'ok') return [];
  if (l.request.type === 'put') return [l.request.key ?? ''];
  if (l.request.type === 'delete' && (l.response?.deleted ?? 0) > 0) return [l.request.key ?? ''];
  if (l.request.type === 'txn' && l.response?.succeeded === true) return (l.request.success ?? []).filter((o) => o.type === 'put').map((o) => o.key);
  return [];
}


/**
 * The verdict code on a real run's history with one lost acknowledged write planted: a
 * read after everything returns a key's value from before its last acknowledged put
 * (illegal whatever unknown ops the run had: no write brings back an old mod revision).
 */
function plantLostWrite(t: ExecutionContext, text: string): void {
  t.is(checkLinearizable(text, 60_000).verdict, 'ok');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Line);
  // A key whose latest write was a put over an earlier value: a read after everything
  // that returns the earlier value has lost that acknowledged put.
  const latest = new Map<string, Line>();
  for (const l of lines) {
    for (const key of keysWritten(l)) if ((latest.get(key)?.response?.revision ?? 0) < (l.response?.revision ?? 0)) latest.set(key, l);
  }
  const overEarlier = [...latest].find(([, l]) => l.request.type === 'put' && l.response?.prevKv !== null && l.response?.prevKv !== undefined);
  // Which history a real run makes depends on timing. When no key ended on a put that
  // returned the value it replaced, the earlier value comes from the key's previous
  // acknowledged put (the workload's values are unique, and its mod revision is old).
  const plant = overEarlier !== undefined
    ? { key: overEarlier[0], lastPut: overEarlier[1], earlier: overEarlier[1].response?.prevKv }
    : earlierPut(lines, latest);
  if (plant === null) {
    t.fail('no key ended on a put over an earlier acknowledged put');
    return;
  }
  const { key, lastPut, earlier } = plant;
  t.log(`planting: ${key} read back without its put at revision ${lastPut.response?.revision ?? 0}`);
  const end = Math.max(...lines.map((l) => l.return ?? l.call)) + 1;
  const finalRevision = Math.max(...lines.map((l) => l.response?.revision ?? 0));
  const planted = {
    process: 1_000_000, call: end, return: end + 1, outcome: 'ok',
    request: { type: 'range', key }, response: { revision: finalRevision, kvs: [earlier], count: 1 },
  };
  const verdict = checkLinearizable(`${text}${JSON.stringify(planted)}\n`, 60_000);
  t.is(verdict.verdict, 'illegal');
  t.true((verdict.windowLines ?? []).length > 0, 'the failing window names lines of the history');
}

/** A key whose latest write is a put, with the value its previous acknowledged put wrote (as a KeyValue), or null. */
function earlierPut(lines: readonly Line[], latest: ReadonlyMap<string, Line>): { key: string; lastPut: Line; earlier: object } | null {
  for (const [key, lastPut] of latest) {
    if (lastPut.request.type !== 'put') continue;
    const last = lastPut.response?.revision ?? 0;
    const before = lines.filter((l) => l.outcome === 'ok' && l.request.type === 'put' && l.request.key === key && (l.response?.revision ?? 0) < last)
      .sort((a, b) => (b.response?.revision ?? 0) - (a.response?.revision ?? 0))[0];
    if (before === undefined) continue;
    const modRevision = before.response?.revision ?? 0;
    return { key, lastPut, earlier: { key, value: before.request.value ?? '', createRevision: modRevision, modRevision, version: 1, lease: 0 } };
  }
  return null;
}

/** The watch verdict on a real run's streams with one event dropped from one of them: not reliable. */
function plantDroppedEvent(t: ExecutionContext, history: string, watchLines: string): void {
  const streams = watchLines.trim().split('\n').map((l) => JSON.parse(l) as WatchStream);
  t.is(judgeWatches(history, streams).ok, true);
  const victim = streams.find((s) => s.responses.some((r) => r.events.length > 0));
  if (victim === undefined) {
    t.fail('no stream delivered an event');
    return;
  }
  const at = victim.responses.findIndex((r) => r.events.length > 0);
  const responses = victim.responses.filter((_, i) => i !== at);
  const planted = streams.map((s) => (s === victim ? { ...s, responses } : s));
  const verdict = judgeWatches(history, planted);
  t.is(verdict.ok, false);
  t.true(verdict.violations.some((v) => v.property === 'reliable'), JSON.stringify(verdict.violations));
}
