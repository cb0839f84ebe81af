// Mutation tests over the valid public histories: change one read's value to
// one that was never written, and the verdict must turn to illegal.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkOperations } from '../../jepsen-like/check.js';
import type { Operation } from '../../jepsen-like/history.js';
import { etcdRegisterModel } from '../../jepsen-like/models/etcd-register.js';
import { kvAppendModel } from '../../jepsen-like/models/kv-append.js';
import { casRegisterModel, multiRegisterModel } from '../../jepsen-like/models/knossos.js';
import { parseKnossosCasRegister, parseKnossosMultiRegister } from '../../jepsen-like/parse/knossos.js';
import { parsePorcupineKv } from '../../jepsen-like/parse/porcupine-kv.js';
import { parsePorcupineRegister } from '../../jepsen-like/parse/porcupine-register.js';

const root = path.join(process.cwd(), 'test/fixtures/histories');

function validFiles(corpus: 'porcupine' | 'knossos', filter: (file: string) => boolean): string[] {
  const parsed = JSON.parse(readFileSync(path.join(root, corpus, 'verdicts.json'), 'utf8')) as {
    histories: { file: string; linearizable: boolean | null }[];
  };
  return parsed.histories.filter((h) => h.linearizable === true && filter(h.file)).map((h) => path.join(root, corpus, h.file));
}

/** Replaces the n-th op matching `pick` (wrapping around) with `mutate(op)`. */
function mutateOne<I, O>(
  ops: readonly Operation<I, O>[],
  pick: (op: Operation<I, O>) => boolean,
  n: number,
  mutate: (op: Operation<I, O>) => Operation<I, O>,
): Operation<I, O>[] | undefined {
  const candidates = ops.filter(pick);
  const victim = candidates[n % Math.max(1, candidates.length)];
  if (victim === undefined) return undefined;
  return ops.map((op) => (op === victim ? mutate(op) : op));
}

test('porcupine etcd logs: a flipped read makes every valid log illegal', (t) => {
  const files = validFiles('porcupine', (f) => f.startsWith('jepsen/'));
  t.is(files.length, 23);
  files.forEach((file, n) => {
    const ops = parsePorcupineRegister(readFileSync(file, 'utf8'));
    t.is(checkOperations(etcdRegisterModel, ops).verdict, 'ok', file);
    const mutated = mutateOne(ops, (op) => op.input.f === 'read', n * 7, (op) => ({
      ...op,
      output: { f: 'read' as const, value: 77 },
    }));
    if (mutated === undefined) return t.fail(`${file}: no read`);
    t.is(checkOperations(etcdRegisterModel, mutated).verdict, 'illegal', path.basename(file));
  });
});

test('porcupine kv logs: a get with a stray suffix makes every valid log illegal', (t) => {
  for (const file of validFiles('porcupine', (f) => f.startsWith('kv/'))) {
    const ops = parsePorcupineKv(readFileSync(file, 'utf8'));
    const mutated = mutateOne(ops, (op) => op.input.f === 'get', 11, (op) => ({
      ...op,
      output: { value: `${op.output?.value ?? ''}x 99 99 y` },
    }));
    if (mutated === undefined) return t.fail(`${file}: no get`);
    t.is(checkOperations(kvAppendModel, mutated).verdict, 'illegal', path.basename(file));
  }
});

test('knossos cas-register: a flipped read makes every valid history with a read illegal', (t) => {
  const model = casRegisterModel(0);
  let mutatedFiles = 0;
  validFiles('knossos', (f) => f.startsWith('cas-register/')).forEach((file, n) => {
    const ops = parseKnossosCasRegister(readFileSync(file, 'utf8'));
    const mutated = mutateOne(
      ops,
      (op) => op.outcome === 'ok' && op.input.f === 'read' && op.input.value !== null,
      n,
      (op) => ({ ...op, input: { f: 'read' as const, value: 99 } }),
    );
    if (mutated === undefined) return; // some mongodb histories have no ok read at all
    mutatedFiles++;
    t.is(checkOperations(model, mutated).verdict, 'illegal', path.basename(file));
  });
  t.true(mutatedFiles >= 100, `only ${mutatedFiles} files mutated`);
});

test('knossos multi-register: a flipped micro-read makes the valid history illegal', (t) => {
  const file = path.join(root, 'knossos/multi-register/good/multi-register.edn');
  const ops = parseKnossosMultiRegister(readFileSync(file, 'utf8'));
  const mutated = mutateOne(
    ops,
    (op) => op.outcome === 'ok' && op.input.ops.some((m) => m.f === 'read' && m.value !== null),
    3,
    (op) => ({ ...op, input: { f: 'txn' as const, ops: op.input.ops.map((m) => (m.f === 'read' ? { ...m, value: 99 } : m)) } }),
  );
  if (mutated === undefined) return t.fail('no read');
  t.is(checkOperations(multiRegisterModel({ x: 0, y: 0 }), mutated).verdict, 'illegal');
});

test('every knossos file in the fixtures is listed in verdicts.json', (t) => {
  const listed = new Set(validFiles('knossos', () => true));
  const onDisk = ['cas-register/good', 'multi-register/good'].flatMap((dir) =>
    readdirSync(path.join(root, 'knossos', dir)).map((f) => path.join(root, 'knossos', dir, f)),
  );
  t.deepEqual(onDisk.filter((f) => !listed.has(f)), []);
});
