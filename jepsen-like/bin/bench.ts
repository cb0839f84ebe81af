// npm run bench:check — time per public corpus (parse + check, in process),
// min / median / max over several runs, and the slowest files. A benchmark,
// not a test: nothing here asserts a time.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkerNamed } from '../checkers.js';
import { etcdHistoryText, generateEtcdHistory } from '../etcd/generate.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 7);
const root = path.join(process.cwd(), 'test/fixtures/histories');

interface Corpus {
  readonly name: string;
  readonly files: readonly { readonly path: string; readonly model: string; readonly text: string }[];
}

function corpus(name: string, dir: string, pick: (file: string) => boolean, modelOf: (file: string) => string): Corpus {
  const listed = JSON.parse(readFileSync(path.join(root, dir, 'verdicts.json'), 'utf8')) as {
    histories: { file: string; linearizable: boolean | null }[];
  };
  const files = listed.histories
    .filter((h) => h.linearizable !== null && pick(h.file))
    .map((h) => ({ path: `${dir}/${h.file}`, model: modelOf(h.file), text: readFileSync(path.join(root, dir, h.file), 'utf8') }));
  return { name, files };
}

const corpora: Corpus[] = [
  corpus('porcupine etcd logs (102)', 'porcupine', (f) => f.startsWith('jepsen/'), () => 'porcupine-register'),
  ...['c01-ok', 'c01-bad', 'c10-ok', 'c10-bad', 'c50-ok', 'c50-bad'].map((name) =>
    corpus(`porcupine kv ${name}`, 'porcupine', (f) => f === `kv/${name}.txt`, () => 'porcupine-kv'),
  ),
  corpus('knossos (122)', 'knossos', () => true, (f) => `knossos-${f.split('/')[0] ?? ''}`),
  // The target: 100,000 ops from 50 clients with 1 % unknown outcomes (seeded, 200 keys).
  {
    name: 'etcd generated 100k ops',
    files: [
      {
        path: 'generated',
        model: 'etcd',
        text: etcdHistoryText(generateEtcdHistory({ ops: 100_000, clients: 50, keys: 200, unknownRate: 0.01, seed: 4 })),
      },
    ],
  },
];

const stats = (xs: readonly number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return `min ${at(0).toFixed(1)} ms  median ${at(0.5).toFixed(1)} ms  max ${(s[s.length - 1] ?? NaN).toFixed(1)} ms`;
};

console.log(`jepsen-like checker benchmark: ${RUNS} runs per corpus, Node ${process.version}`);
for (const { name, files } of corpora) {
  const totals: number[] = [];
  const perFile = new Map<string, number[]>();
  for (let run = 0; run < RUNS; run++) {
    let total = 0;
    for (const file of files) {
      const checker = checkerNamed(file.model);
      if (checker === undefined) throw new Error(`no checker ${file.model}`);
      const started = performance.now();
      const { result } = checker(file.text, { timeoutMs: 60_000 });
      if (result.verdict !== 'ok' && !file.path.includes('bad') && !file.path.includes('etcd_')) {
        console.log(`  note: ${file.path} gave ${result.verdict}`);
      }
      const ms = performance.now() - started;
      total += ms;
      perFile.set(file.path, [...(perFile.get(file.path) ?? []), ms]);
    }
    totals.push(total);
  }
  console.log(`${name.padEnd(28)} ${stats(totals)}`);
  if (files.length > 1) {
    const medians = [...perFile].map(([file, xs]) => [file, [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0] as const);
    medians.sort((a, b) => b[1] - a[1]);
    const slowest = medians.slice(0, 3).map(([file, ms]) => `${path.basename(file)} ${ms.toFixed(1)} ms`);
    console.log(`${''.padEnd(28)} slowest (median): ${slowest.join(', ')}`);
  }
}
