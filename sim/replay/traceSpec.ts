// Opening a trace file (`npm run sim -- --seed S --trace run.jsonl`) in the viewer: the
// file's last line is the run's result, which names everything that shaped the run
// (seed, members, time, faults, bugs, workload), so the viewer replays the run itself
// rather than reading the events, and checks its replay against the trace hash the file
// records. Pure: the page reads the file, this reads its text.

import { AUTH_BUG_NAMES, BUG_NAMES } from '../args.js';
import type { BugName } from '../args.js';
import type { ParsedSpec } from './runSpec.js';
import { specOf } from './runSpec.js';

/** What a trace file says about its run, besides the spec: the hash and length to check the replay against. */
export interface TraceFacts {
  readonly traceHash: string;
  readonly events: number;
}

export type ParsedTrace = (ParsedSpec & { readonly ok: true; readonly facts: TraceFacts }) | { readonly ok: false; readonly error: string };

const ALL_BUGS: readonly string[] = [...BUG_NAMES, ...AUTH_BUG_NAMES];

function isBugName(name: unknown): name is BugName {
  return typeof name === 'string' && ALL_BUGS.includes(name);
}

/** Reads the result line at the end of a trace file. */
export function specFromTrace(text: string): ParsedTrace {
  const lines = text.trimEnd().split('\n');
  const last = lines[lines.length - 1] ?? '';
  let result: unknown;
  try {
    result = JSON.parse(last);
  } catch {
    return { ok: false, error: 'the last line of a trace file is the run\'s result (JSON); this one is not JSON' };
  }
  if (typeof result !== 'object' || result === null || (result as { kind?: unknown }).kind !== 'result') {
    return { ok: false, error: 'the last line is not a run result: write the file with npm run sim -- --seed S --trace FILE' };
  }
  const r = result as Record<string, unknown>;
  const { seed, nodes, time_ms: timeMs, faults, bugs, workload, auth, trace_hash: traceHash, events } = r;
  if (typeof seed !== 'number' || typeof nodes !== 'number' || typeof timeMs !== 'number' || typeof traceHash !== 'string' || typeof events !== 'number') {
    return { ok: false, error: 'the result line lacks seed, nodes, time_ms, trace_hash or events' };
  }
  if (faults !== 'swarm' && faults !== 'none') return { ok: false, error: `unknown faults '${String(faults)}'` };
  const names = Array.isArray(bugs) ? bugs : [];
  const known = names.filter(isBugName);
  if (known.length !== names.length) return { ok: false, error: `unknown planted bug among ${names.join(', ')}` };
  const spec = specOf({
    seed, nodes, timeMs, faults, bugs: known, workload: workload === 'kv' ? 'kv' : 'none', auth: auth !== undefined,
  });
  return { ok: true, spec, at: null, facts: { traceHash, events } };
}
