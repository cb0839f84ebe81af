// Histories generated from a sequential run of the model, then stretched into
// random overlapping intervals that still contain each op's linearization
// point, are always linearizable. One injected anomaly makes them illegal.
import test from 'ava';
import fc from 'fast-check';
import { checkOperations } from '../../jepsen-like/check.js';
import type { Operation } from '../../jepsen-like/history.js';
import type { RegisterInput, RegisterOutput, RegisterValue } from '../../jepsen-like/models/etcd-register.js';
import { etcdRegisterModel } from '../../jepsen-like/models/etcd-register.js';
import type { KvInput, KvOutput } from '../../jepsen-like/models/kv-append.js';
import { kvAppendModel } from '../../jepsen-like/models/kv-append.js';

interface Planned {
  readonly kind: number;
  readonly arg: number;
  readonly lead: number;
  readonly lag: number;
  /** 0: ok; 1: unknown and took effect; 2: unknown and never happened. */
  readonly fate: number;
}

const planned = fc.record({
  kind: fc.nat(9),
  arg: fc.nat(4),
  lead: fc.nat(40),
  lag: fc.nat(40),
  fate: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
});
const plans = fc.array(planned, { minLength: 1, maxLength: 60 });
/** Wider intervals: more ops overlap, so more of them can be reordered. */
const widePlans = fc.array(
  fc.record({ kind: fc.nat(9), arg: fc.nat(4), lead: fc.nat(200), lag: fc.nat(60), fate: fc.constant(0) }),
  { minLength: 5, maxLength: 60 },
);

/** Op i linearizes at 100·i; its interval [call, ret] contains that point. */
function interval(p: Planned, i: number): { call: number; ret: number } {
  return { call: 100 * i - p.lead * 5, ret: 100 * i + p.lag * 5 };
}

/** Register run: writes carry unique values (the op index), so reads name their writer. */
function registerHistory(plan: readonly Planned[]): Operation<RegisterInput, RegisterOutput>[] {
  let state: RegisterValue = null;
  return plan.map((p, i) => {
    const { call, ret } = interval(p, i);
    const base = { id: i, process: i, call, line: i + 1 };
    if (p.kind < 4) return { ...base, ret, input: { f: 'read' }, output: { f: 'read', value: state }, outcome: 'ok' };
    const input: RegisterInput = p.kind < 8 ? { f: 'write', value: 1000 + i } : { f: 'cas', from: state ?? -1, to: 1000 + i };
    // Half the cas ops compare against a value that is not there.
    const cas = input.f === 'cas' && p.arg % 2 === 1 ? { ...input, from: -2 } : input;
    const succeeded = cas.f === 'write' || cas.from === state;
    if (p.fate !== 0) {
      if (p.fate === 1 && succeeded) state = 1000 + i;
      return { ...base, ret: Infinity, input: cas, output: undefined, outcome: 'unknown' };
    }
    if (succeeded) state = 1000 + i;
    const output: RegisterOutput = cas.f === 'write' ? { f: 'write' } : { f: 'cas', succeeded };
    return { ...base, ret, input: cas, output, outcome: 'ok' };
  });
}

function kvHistory(plan: readonly Planned[]): Operation<KvInput, KvOutput>[] {
  const store = new Map<string, string>();
  return plan.map((p, i) => {
    const { call, ret } = interval(p, i);
    const key = String(p.arg % 3);
    const base = { id: i, process: i, call, line: i + 1 };
    const current = store.get(key) ?? '';
    if (p.kind < 4) {
      return { ...base, ret, input: { f: 'get', key, value: '' }, output: { value: current }, outcome: 'ok' };
    }
    const f = p.kind < 6 ? 'put' : 'append';
    const value = `<${i}>`;
    const input: KvInput = { f, key, value };
    const next = f === 'put' ? value : current + value;
    if (p.fate !== 0) {
      if (p.fate === 1) store.set(key, next);
      return { ...base, ret: Infinity, input, output: undefined, outcome: 'unknown' };
    }
    store.set(key, next);
    return { ...base, ret, input, output: { value: '' }, outcome: 'ok' };
  });
}

test('sequential register runs with random concurrency are linearizable', (t) => {
  fc.assert(
    fc.property(plans, (plan) => checkOperations(etcdRegisterModel, registerHistory(plan)).verdict === 'ok'),
    { numRuns: 300 },
  );
  t.pass();
});

test('sequential kv runs with random concurrency are linearizable', (t) => {
  fc.assert(
    fc.property(plans, (plan) => checkOperations(kvAppendModel, kvHistory(plan)).verdict === 'ok'),
    { numRuns: 300 },
  );
  t.pass();
});

/** The op a mutation test changes: one of those `wanted`, chosen by `pick` (the run is skipped when there is none). */
function victimOf<T>(history: readonly T[], wanted: (op: T) => boolean, pick: number): T {
  const candidates = history.filter(wanted);
  const victim = candidates[pick % Math.max(1, candidates.length)];
  fc.pre(victim !== undefined);
  return victim;
}

test('a register read of a value never written is illegal', (t) => {
  fc.assert(
    fc.property(plans, fc.nat(), (plan, pick) => {
      const history = registerHistory(plan);
      const victim = victimOf(history, (op) => op.input.f === 'read' && op.outcome === 'ok', pick);
      const mutated = history.map((op) =>
        op === victim ? { ...op, output: { f: 'read' as const, value: 999_999 } } : op,
      );
      return checkOperations(etcdRegisterModel, mutated).verdict === 'illegal';
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('a kv get that misses a completed append is illegal', (t) => {
  fc.assert(
    fc.property(plans, fc.nat(), (plan, pick) => {
      const history = kvHistory(plan);
      const victim = victimOf(history, (op) => op.input.f === 'get', pick);
      const mutated = history.map((op) =>
        op === victim ? { ...op, output: { value: `${op.output?.value ?? ''}<stray>` } } : op,
      );
      return checkOperations(kvAppendModel, mutated).verdict === 'illegal';
    }),
    { numRuns: 300 },
  );
  t.pass();
});

/**
 * Moving one write's completion before another write's invocation: if W(v)
 * now finishes before W(u) starts, and W(u) finished before a read R started,
 * then R cannot return v (values are unique).
 */
test("moving a write's completion before another write's invocation makes a stale read illegal", (t) => {
  let mutatedRuns = 0;
  fc.assert(
    fc.property(widePlans, (plan) => {
      const history = registerHistory(plan);
      const definiteWrites = history.filter((op) => op.input.f === 'write' && op.outcome === 'ok');
      for (const read of history) {
        if (read.input.f !== 'read' || read.output?.f !== 'read' || read.output.value === null) continue;
        const seen = read.output.value;
        const writer = definiteWrites.find((w) => w.input.f === 'write' && w.input.value === seen);
        if (writer === undefined) continue;
        const later = definiteWrites.find((w) => w !== writer && w.call > writer.call && w.ret < read.call);
        if (later === undefined) continue;
        mutatedRuns++;
        const mutated = history.map((op) => (op === writer ? { ...op, ret: later.call - 0.5 } : op));
        return checkOperations(etcdRegisterModel, mutated).verdict === 'illegal';
      }
      return true;
    }),
    { numRuns: 400 },
  );
  t.true(mutatedRuns > 20, `only ${mutatedRuns} runs had a write to move`);
});
