// npm run bench:check — time per public corpus (parse + check, in process),
// min / median / max over several runs, and the slowest files. A benchmark,
// not a test: nothing here asserts a time.
//
// BENCH_BASELINE=<another checkout's build/jepsen-like/checkers.js> times that checker
// too, alternating with this one run by run, so that a loaded machine's drift falls on
// both alike; it prints the ratio of medians (this / baseline) per corpus.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkerNamed, type Checker } from '../checkers.js';
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

type CheckerLookup = (name: string) => Checker | undefined;

const baselinePath = process.env['BENCH_BASELINE'];
const baseline: CheckerLookup | null = baselinePath === undefined
  ? null
  : ((await import(path.resolve(baselinePath))) as { checkerNamed: CheckerLookup }).checkerNamed;

/** One pass over a corpus with one checker: total ms, and ms per file added to `perFile`. */
function timeCorpus(lookup: CheckerLookup, corpus: Corpus, perFile: Map<string, number[]> | null): number {
  let total = 0;
  for (const file of corpus.files) {
    const checker = lookup(file.model);
    if (checker === undefined) throw new Error(`no checker ${file.model}`);
    const started = performance.now();
    const { result } = checker(file.text, { timeoutMs: 60_000 });
    const ms = performance.now() - started;
    if (perFile !== null && result.verdict !== 'ok' && !file.path.includes('bad') && !file.path.includes('etcd_')) {
      console.log(`  note: ${file.path} gave ${result.verdict}`);
    }
    total += ms;
    perFile?.set(file.path, [...(perFile.get(file.path) ?? []), ms]);
  }
  return total;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;

console.log(`jepsen-like checker benchmark: ${RUNS} runs per corpus, Node ${process.version}`
  + (baselinePath === undefined ? '' : `, alternating with ${baselinePath}`));
for (const corpus of corpora) {
  const totals: number[] = [];
  const baseTotals: number[] = [];
  const perFile = new Map<string, number[]>();
  for (let run = 0; run < RUNS; run++) {
    totals.push(timeCorpus(checkerNamed, corpus, perFile));
    if (baseline !== null) baseTotals.push(timeCorpus(baseline, corpus, null));
  }
  console.log(`${corpus.name.padEnd(28)} ${stats(totals)}`);
  if (baseline !== null) {
    const ratio = median(totals) / median(baseTotals);
    console.log(`${'  baseline'.padEnd(28)} ${stats(baseTotals)}  this/baseline ${ratio.toFixed(3)}`);
  }
  if (corpus.files.length > 1) {
    const medians = [...perFile].map(([file, xs]) => [file, median(xs)] as const);
    medians.sort((a, b) => b[1] - a[1]);
    const slowest = medians.slice(0, 3).map(([file, ms]) => `${path.basename(file)} ${ms.toFixed(1)} ms`);
    console.log(`${''.padEnd(28)} slowest (median): ${slowest.join(', ')}`);
  }
}
