// npm run --silent check -- --model M [--timeout-ms N] [--report DIR] FILE...
//
// Prints one JSON line per file: {"file", "verdict", "ms"}. Exit code: 2 for bad
// usage or an unreadable / malformed file (reported on stderr with its line),
// else 1 if any file is illegal, else 3 if any is unknown, else 0.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderReport } from './explain/report.js';
import { checkerNamed, CHECKERS } from './checkers.js';
import { HistoryFormatError } from './history.js';
import type { Verdict } from './history.js';

const USAGE = `usage: check --model M [--timeout-ms N] [--report DIR] FILE...
  M: ${Object.keys(CHECKERS).join(', ')}
  --timeout-ms N  budget per file (default 60000); out of budget gives "unknown"
  --report DIR    write an HTML explanation of each illegal file into DIR`;

interface Args {
  readonly model: string;
  readonly timeoutMs: number;
  readonly reportDir: string | undefined;
  readonly files: readonly string[];
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Args {
  let model: string | undefined;
  let timeoutMs = 60_000;
  let reportDir: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--model') model = value();
    else if (arg === '--timeout-ms') {
      const v = value();
      timeoutMs = Number(v);
      if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new UsageError(`--timeout-ms: not a non-negative number: ${v}`);
    } else if (arg === '--report') reportDir = value();
    else if (arg === '--help' || arg === '-h') throw new UsageError('');
    else if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
    else files.push(arg);
  }
  if (model === undefined) throw new UsageError('--model is required');
  if (checkerNamed(model) === undefined) throw new UsageError(`unknown model ${model}`);
  if (files.length === 0) throw new UsageError('no FILE given');
  return { model, timeoutMs, reportDir, files };
}

const EXIT: Record<Verdict | 'malformed', number> = { ok: 0, illegal: 1, unknown: 3, malformed: 2 };
/** Which exit code wins when files disagree. */
const PRIORITY = [2, 1, 3, 0];

function main(argv: readonly string[]): number {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (error: unknown) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message !== '') process.stderr.write(`check: ${error.message}\n`);
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const checker = checkerNamed(args.model);
  if (checker === undefined) return 2;
  const codes: number[] = [];
  for (const file of args.files) {
    const started = performance.now();
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error: unknown) {
      process.stderr.write(`check: ${file}: cannot read: ${error instanceof Error ? error.message : String(error)}\n`);
      codes.push(EXIT.malformed);
      continue;
    }
    try {
      const checked = checker(text, { timeoutMs: args.timeoutMs });
      const { result } = checked;
      const ms = Math.round((performance.now() - started) * 1000) / 1000;
      process.stdout.write(`${JSON.stringify({ file, verdict: result.verdict, ms })}\n`);
      codes.push(EXIT[result.verdict]);
      const explanation = args.reportDir === undefined ? undefined : checked.explain();
      if (args.reportDir !== undefined && explanation !== undefined) {
        mkdirSync(args.reportDir, { recursive: true });
        const name = `${file.replace(/^[./]+/, '').replace(/[^A-Za-z0-9._-]+/g, '_')}.html`;
        writeFileSync(path.join(args.reportDir, name), renderReport({ file, model: args.model, ops: checked.ops, ...explanation }));
      }
    } catch (error: unknown) {
      if (!(error instanceof HistoryFormatError)) throw error;
      process.stderr.write(`check: ${file}:${error.line}: ${error.reason}\n`);
      codes.push(EXIT.malformed);
    }
  }
  return PRIORITY.find((code) => codes.includes(code)) ?? 0;
}

// A reader that stops early (`| head`) closes the pipe: stop quietly, as Unix tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = main(process.argv.slice(2));
