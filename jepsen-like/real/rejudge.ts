// npm run --silent jepsen:judge -- [--check-timeout-s S] DIR...
//
// Judges recorded runs again from their files, without a cluster: the
// linearizability verdict from DIR/history.jsonl and the watch verdict from it and
// DIR/watch.jsonl. For runs recorded before a checker improvement (a campaign's
// directories), and for histories recorded by other tools in the same format. The
// verdicts that need the live cluster (acknowledged writes read back, HashKV) or the
// run's memory (lease bounds, lock holds) are the run's own, in DIR/summary.json.
// Prints one JSON line per directory; exit code as the run's: 0 ok, 1 a violation,
// 3 undecided, 2 bad usage or unreadable files.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { WatchStream } from '../watch/validate.js';
import type { HistoryRecord } from './recorder.js';
import { compactedTo } from './run.js';
import { checkLinearizable } from './verdicts.js';
import { judgeWatches } from './watch.js';

const USAGE = 'usage: npm run --silent jepsen:judge -- [--check-timeout-s S] DIR...';
const MAX_DIRS = 10_000;

interface Judged {
  readonly dir: string;
  readonly linearizable: string;
  readonly linearizableMs: number;
  readonly watch: string;
  readonly watchNote?: string;
  readonly watchViolations?: readonly string[];
}

function judge(dir: string, timeoutMs: number): Judged {
  const historyText = readFileSync(path.join(dir, 'history.jsonl'), 'utf8');
  const watchFile = path.join(dir, 'watch.jsonl');
  const streams = existsSync(watchFile)
    ? readFileSync(watchFile, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as WatchStream)
    : [];
  const lin = checkLinearizable(historyText, timeoutMs, streams);
  const base = { dir, linearizable: lin.verdict, linearizableMs: lin.ms };
  if (!existsSync(watchFile)) return { ...base, watch: 'none' };
  const records = historyText.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as HistoryRecord);
  const w = judgeWatches(historyText, streams, compactedTo(records), timeoutMs);
  return {
    ...base,
    watch: w.ok === null ? 'unknown' : w.ok ? 'ok' : 'invalid',
    ...(w.note === undefined ? {} : { watchNote: w.note }),
    ...(w.violations.length === 0 ? {} : { watchViolations: w.violations.slice(0, 5).map((v) => `${v.property}: ${v.message}`) }),
  };
}

function main(argv: readonly string[]): number {
  let timeoutS = 60;
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--check-timeout-s') {
      timeoutS = Number(argv[++i]);
      if (!Number.isInteger(timeoutS) || timeoutS < 1 || timeoutS > 3600) { process.stderr.write(`jepsen:judge: --check-timeout-s must be 1..3600\n${USAGE}\n`); return 2; }
    } else if (arg.startsWith('--')) {
      process.stderr.write(`jepsen:judge: unknown flag ${arg}\n${USAGE}\n`);
      return 2;
    } else dirs.push(arg);
  }
  if (dirs.length === 0 || dirs.length > MAX_DIRS) { process.stderr.write(`${USAGE}\n`); return 2; }
  let worst = 0;
  for (const dir of dirs) {
    let judged: Judged;
    try {
      judged = judge(dir, timeoutS * 1000);
    } catch (error: unknown) {
      process.stderr.write(`jepsen:judge: ${dir}: ${error instanceof Error ? error.message : String(error)}\n`);
      worst = Math.max(worst, 2);
      continue;
    }
    process.stdout.write(`${JSON.stringify(judged)}\n`);
    const verdicts = [judged.linearizable, judged.watch];
    const code = verdicts.some((v) => v === 'illegal' || v === 'invalid') ? 1 : verdicts.some((v) => v === 'unknown') ? 3 : 0;
    // A violation outranks everything, then undecided (3), then unreadable files (2), then ok.
    worst = code === 1 || worst === 1 ? 1 : Math.max(worst, code);
  }
  return worst;
}

process.exit(main(process.argv.slice(2)));
