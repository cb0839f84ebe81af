// Failing windows agree with Knossos's reported culprits, and etcd explanations work.
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkerNamed } from '../../jepsen-like/checkers.js';
import { etcdHistoryText, generateEtcdHistory } from '../../jepsen-like/etcd/generate.js';
import { renderReport } from '../../jepsen-like/explain/report.js';

const root = path.join(process.cwd(), 'test/fixtures/histories');

function explain(model: string, file: string): { lines: number[]; prefix: number } {
  const checker = checkerNamed(model);
  if (checker === undefined) throw new Error(model);
  const checked = checker(readFileSync(path.join(root, file), 'utf8'));
  const explanation = checked.explain();
  if (explanation === undefined) throw new Error('not illegal');
  const lineOf = new Map(checked.ops.map((op) => [op.id, op.line]));
  return { lines: explanation.window.map((id) => lineOf.get(id) ?? -1), prefix: explanation.longestPrefix.length };
}

test("the window holds the op Knossos names (bad-analysis: process 21's read of 2)", (t) => {
  t.deepEqual(explain('knossos-cas-register', 'knossos/cas-register/bad/bad-analysis.edn').lines, [16, 17]);
});

test('ok histories have no explanation', (t) => {
  const checker = checkerNamed('porcupine-register');
  const checked = checker?.(readFileSync(path.join(root, 'porcupine/jepsen/etcd_005.log'), 'utf8'));
  t.is(checked?.explain(), undefined);
});

test('etcd: a small illegal history is explained from the search, a large one from the fast path', (t) => {
  const checker = checkerNamed('etcd');
  if (checker === undefined) return t.fail();
  for (const ops of [120, 1000]) {
    const history = generateEtcdHistory({ ops, clients: 5, keys: 3, unknownRate: 0, seed: 5 });
    const victim = history.findIndex((op, i) => i > ops / 2 && op.input.type === 'range');
    const broken = history.map((op, i) => (i === victim ? { ...op, output: { ...op.output, kvs: [{ key: 'k000', value: 'bogus' }] } } : op));
    const checked = checker(etcdHistoryText(broken));
    t.is(checked.result.verdict, 'illegal');
    const explanation = checked.explain();
    t.true(explanation !== undefined && explanation.window.includes(victim), `${ops} ops`);
    const html = renderReport({ file: 'x', model: 'etcd', ops: checked.ops, window: explanation?.window ?? [], longestPrefix: explanation?.longestPrefix ?? [] });
    t.regex(html, /bogus/);
  }
});
