// Every public verdict, reproduced: 102 Porcupine etcd logs, 6 kv logs and
// 122 Knossos histories (copied into test/fixtures/histories so CI has them).
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkerNamed } from '../../jepsen-like/checkers.js';

const root = path.join(process.cwd(), 'test/fixtures/histories');

interface Entry {
  readonly file: string;
  readonly linearizable: boolean | null;
}

function entries(corpus: string): Entry[] {
  const parsed = JSON.parse(readFileSync(path.join(root, corpus, 'verdicts.json'), 'utf8')) as { histories: Entry[] };
  return parsed.histories;
}

function modelFor(corpus: string, file: string): string {
  if (corpus === 'porcupine') return file.startsWith('kv/') ? 'porcupine-kv' : 'porcupine-register';
  return `knossos-${file.split('/')[0] ?? ''}`;
}

let count = 0;
for (const corpus of ['porcupine', 'knossos']) {
  for (const { file, linearizable } of entries(corpus)) {
    if (linearizable === null) continue; // etcd_095.log is empty: no verdict
    count++;
    const expected = linearizable ? 'ok' : 'illegal';
    test(`${corpus}/${file} is ${expected}`, (t) => {
      const checker = checkerNamed(modelFor(corpus, file));
      if (checker === undefined) return t.fail('no checker');
      const { result } = checker(readFileSync(path.join(root, corpus, file), 'utf8'));
      t.is(result.verdict, expected);
    });
  }
}

test('the corpora hold all 230 public verdicts', (t) => {
  t.is(count, 230);
});
