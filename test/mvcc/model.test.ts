// MVCC against a naive model that keeps the whole key space at every revision.
// Random sequences of puts, deletes, range deletes, txns, compactions and reads at
// random revisions must give the same answers (values, versions, revisions, count,
// errors) from both, and the store rebuilt from its backend must agree too.
import test from 'ava';
import fc from 'fast-check';
import { isEtcdError } from '../../core/errors.js';
import { MemoryBackend } from '../../core/mvcc/backend.js';
import { MvccStore } from '../../core/mvcc/store.js';
import type { KeyValue } from '../../core/mvcc/types.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

interface ModelKv { value: string; create: number; mod: number; version: number }

class Model {
  /** states[r] = the key space after revision r (index 1 = the empty start). */
  states: Map<string, ModelKv>[] = [new Map<string, ModelKv>(), new Map<string, ModelKv>()];
  compacted = -1;
  get current(): number {
    return this.states.length - 1;
  }
  at(r: number): Map<string, ModelKv> {
    const s = this.states[r];
    if (s === undefined) throw new Error(`model has no revision ${r}`);
    return s;
  }
  write(change: (next: Map<string, ModelKv>, rev: number) => boolean): number {
    const next = new Map(this.at(this.current));
    const rev = this.current + 1;
    if (change(next, rev)) this.states.push(next);
    return this.current;
  }
}

type Op =
  | { kind: 'put'; key: string; value: string }
  | { kind: 'del'; key: string; end: string }
  | { kind: 'range'; key: string; end: string; revBack: number; limit: number }
  | { kind: 'compact'; revBack: number }
  | { kind: 'cas'; key: string; version: number; value: string };

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('put' as const), key, value: fc.string({ maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('del' as const), key, end: fc.constantFrom('', 'c', 'f', '\0') }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('range' as const), key, end: fc.constantFrom('', 'c', 'f', '\0'), revBack: fc.integer({ min: -2, max: 8 }), limit: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), revBack: fc.integer({ min: -1, max: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cas' as const), key, version: fc.integer({ min: 0, max: 3 }), value: fc.string({ maxLength: 2 }) }) },
);

function inModelRange(k: string, key: string, end: string): boolean {
  if (end === '') return k === key;
  if (end === '\0') return k >= key;
  return k >= key && k < end;
}

function show(kvs: readonly KeyValue[]): string {
  return kvs.map((kv) => `${dec(kv.key)}=${dec(kv.value)}@${kv.createRevision}/${kv.modRevision}/v${kv.version}`).join(' ');
}

function showModel(entries: [string, ModelKv][]): string {
  return entries.map(([k, v]) => `${k}=${v.value}@${v.create}/${v.mod}/v${v.version}`).join(' ');
}

test('MVCC agrees with a naive model over random histories, and after a rebuild', (t) => {
  let runs = 0;
  let writes = 0;
  fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 60, size: 'max' }), (ops) => {
    const backend = new MemoryBackend();
    let store = new MvccStore(backend);
    const model = new Model();
    let applied = 0;
    runs++;
    for (const o of ops) {
      // Reads are not Raft entries; every write is one.
      if (o.kind !== 'range') applied++;
      switch (o.kind) {
        case 'put': {
          const r = store.put({ key: enc(o.key), value: enc(o.value) }, applied);
          const expected = model.write((next, rev) => {
            const prev = next.get(o.key);
            next.set(o.key, { value: o.value, create: prev?.create ?? rev, mod: rev, version: (prev?.version ?? 0) + 1 });
            return true;
          });
          if (isEtcdError(r) || r.revision !== expected) throw new Error(`put revision ${JSON.stringify(r)} vs ${expected}`);
          break;
        }
        case 'del': {
          const r = store.deleteRange({ key: enc(o.key), rangeEnd: enc(o.end) }, applied);
          let deleted = 0;
          const expected = model.write((next) => {
            for (const k of [...next.keys()]) if (inModelRange(k, o.key, o.end)) { next.delete(k); deleted++; }
            return deleted > 0;
          });
          if (isEtcdError(r) || r.deleted !== deleted || r.revision !== expected) {
            throw new Error(`delete ${JSON.stringify(r)} vs deleted ${deleted} at ${expected}`);
          }
          break;
        }
        case 'cas': {
          const r = store.txn({
            compare: [{ key: enc(o.key), target: 'version', version: o.version, result: 'equal' }],
            success: [{ put: { key: enc(o.key), value: enc(o.value) } }],
            failure: [{ range: { key: enc(o.key) } }],
          }, applied);
          const holds = (model.at(model.current).get(o.key)?.version ?? 0) === o.version;
          const expected = model.write((next, rev) => {
            if (!holds) return false;
            const prev = next.get(o.key);
            next.set(o.key, { value: o.value, create: prev?.create ?? rev, mod: rev, version: (prev?.version ?? 0) + 1 });
            return true;
          });
          if (isEtcdError(r) || r.succeeded !== holds || r.revision !== expected) {
            throw new Error(`cas ${JSON.stringify(r)} vs ${holds} at ${expected}`);
          }
          break;
        }
        case 'compact': {
          const target = model.current - o.revBack;
          const r = store.compact({ revision: target }, applied);
          const expectError = target <= model.compacted ? 'compacted' : target > model.current ? 'futureRev' : null;
          if (expectError === null) model.compacted = target;
          const got = isEtcdError(r) ? r.name : null;
          if (got !== expectError) throw new Error(`compact ${target}: ${String(got)} vs ${String(expectError)}`);
          break;
        }
        case 'range': {
          const rev = o.revBack < 0 ? 0 : model.current - o.revBack;
          const r = store.range({ key: enc(o.key), rangeEnd: enc(o.end), revision: rev, limit: o.limit });
          const at = rev <= 0 ? model.current : rev;
          const expectError = rev > model.current ? 'futureRev' : at < model.compacted ? 'compacted' : null;
          if (expectError !== null) {
            if (!isEtcdError(r) || r.name !== expectError) throw new Error(`range at ${rev}: expected ${expectError}, got ${JSON.stringify(r)}`);
            break;
          }
          if (isEtcdError(r)) throw new Error(`range at ${rev}: unexpected ${r.name}`);
          const all = [...model.at(at).entries()].filter(([k]) => inModelRange(k, o.key, o.end)).sort(([a], [b]) => (a < b ? -1 : 1));
          const kept = o.limit > 0 ? all.slice(0, o.limit) : all;
          if (show(r.kvs) !== showModel(kept) || r.count !== all.length || r.more !== (o.limit > 0 && all.length > o.limit)
            || r.revision !== model.current) {
            throw new Error(`range ${JSON.stringify(o)} at ${at}: got [${show(r.kvs)}] count ${r.count} more ${r.more}; want [${showModel(kept)}] count ${all.length}`);
          }
          break;
        }
      }
    }
    // The store rebuilt from its backend answers the same at every readable revision.
    writes += model.current - 1;
    store = new MvccStore(backend);
    if (store.currentRevision() !== model.current) throw new Error(`rebuilt at ${store.currentRevision()}, model ${model.current}`);
    if (store.appliedIndex() !== applied) throw new Error('applied index not persisted with the data');
    for (let r = Math.max(1, model.compacted); r <= model.current; r++) {
      const got = store.range({ key: enc('a'), rangeEnd: enc('\0'), revision: r });
      if (isEtcdError(got)) throw new Error(`rebuilt store refused revision ${r}: ${got.name}`);
      const want = [...model.at(r).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
      if (show(got.kvs) !== showModel(want)) throw new Error(`rebuilt store at ${r}: [${show(got.kvs)}] vs [${showModel(want)}]`);
    }
  }), { numRuns: Number(process.env['MVCC_RUNS'] ?? 10_000) });
  t.log(`${runs} sequences, ${writes} revisions written`);
  t.true(runs >= Number(process.env['MVCC_RUNS'] ?? 10_000));
});
