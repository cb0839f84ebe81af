// `npm run bench:replay`: how fast the viewer's engine replays (a benchmark, not a test:
// wall-clock figures are printed, never asserted). A 10 s, 5-member seed with the KV
// workload (the page's default run), measured four ways: one execution start to end,
// the same one event at a time (the page's play), a survey (the timeline's pass), and
// steps back (re-execution from the start, then the frames kept).

import { availableParallelism, loadavg } from 'node:os';
import process from 'node:process';
import { Execution } from './execution.js';
import { Replay } from './replay.js';
import { specOf } from './runSpec.js';
import { survey } from './survey.js';

const SPEC = specOf({ seed: 17, nodes: 5 });
const ROUNDS = 3;

function rate(events: number, ms: number): number {
  return Math.round(events / Math.max(ms, 0.001) * 1000);
}

function best(measure: () => { events: number; ms: number }): { events: number; eventsPerS: number } {
  let top = 0;
  let events = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const m = measure();
    events = m.events;
    top = Math.max(top, rate(m.events, m.ms));
  }
  return { events, eventsPerS: top };
}

function timed(work: () => number): { events: number; ms: number } {
  const started = performance.now();
  const events = work();
  return { events, ms: performance.now() - started };
}

function main(): void {
  // Warm-up: a cold first run is several times slower than the same run warm.
  new Execution(specOf({ seed: 1001, nodes: 5 })).advanceTo(Number.MAX_SAFE_INTEGER);
  const oneGo = best(() => timed(() => {
    const execution = new Execution(SPEC);
    execution.advanceTo(Number.MAX_SAFE_INTEGER);
    return execution.index;
  }));
  const stepped = best(() => timed(() => {
    const execution = new Execution(SPEC);
    while (execution.step()) { /* one event at a time */ }
    return execution.index;
  }));
  const surveyed = best(() => timed(() => survey(SPEC, () => performance.now()).events));
  const replay = new Replay(SPEC);
  replay.seek(20_000);
  const back = timed(() => {
    for (let i = 0; i < 500; i++) replay.previous();
    return 500;
  });
  process.stdout.write(
    `bench:replay seed 17, 5 members, 10 000 ms, kv workload: ${oneGo.events} events (best of ${ROUNDS})\n` +
    `  one execution start to end: ${oneGo.eventsPerS} events/s\n` +
    `  one event at a time:        ${stepped.eventsPerS} events/s\n` +
    `  survey (timeline marks):    ${surveyed.eventsPerS} events/s\n` +
    `  500 steps back from 20000:  ${Math.round(back.ms)} ms (${replay.reexecutions} re-executions from the start)\n` +
    `load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${availableParallelism()} cores (other work skews these figures)\n`);
}

main();
