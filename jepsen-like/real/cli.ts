// npm run jepsen -- --target tern|etcd --nodes 3|5 --time-s S --nemesis LIST --workload LIST --seed S --out DIR
//
// Starts a cluster of real members on loopback, runs the workloads while the nemesis
// injects faults, checks what the clients saw, and writes everything into DIR
// (docs/jepsen-like.md). Exit code: 0 every verdict ok, 1 a violation, 3 undecided
// (a checker out of budget), 2 bad usage or a run that could not be carried out.
//
// Every member is a child of this process, tracked by pid: a normal end, an error, or
// SIGINT/SIGTERM (first: stop early and still judge what was recorded; second: kill now)
// leaves none running.

import { randomInt } from 'node:crypto';
import { parseArgs, UsageError, USAGE, type RunOptions } from './args.js';
import type { RealCluster } from './cluster.js';
import { runJepsen, type Progress } from './run.js';
import { renderSummary } from './summary.js';

const EXIT = { ok: 0, violation: 1, unknown: 3 } as const;
const BAR = 30;

function progressLine(p: Progress): string {
  const done = Math.min(BAR, Math.round((p.elapsedS / p.timeS) * BAR));
  return `[${'#'.repeat(done)}${'.'.repeat(BAR - done)}] ${p.elapsedS.toFixed(0)}/${p.timeS} s  ops ${p.ops}  unknown ${p.unknown}  faults ${p.faults}  ${p.phase}`;
}

async function main(argv: readonly string[]): Promise<number> {
  let options: RunOptions;
  try {
    options = parseArgs(argv, () => randomInt(2 ** 31));
  } catch (error: unknown) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message !== '') process.stderr.write(`jepsen: ${error.message}\n`);
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let cluster: RealCluster | null = null;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    process.stderr.write(`\njepsen: ${signal}: ${signals === 1 ? 'stopping the run (again to kill at once)' : 'killing every member'}\n`);
    if (signals > 1) { cluster?.killAllNow(); process.exit(130); }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => { cluster?.killAllNow(); });
  const tty = process.stderr.isTTY;
  let lastPrinted = 0;
  try {
    const summary = await runJepsen(options, {
      onCluster: (c) => { cluster = c; },
      aborted: () => signals > 0,
      log: (line) => { process.stderr.write(`${tty ? '\r\x1b[K' : ''}${line}\n`); },
      progress: (p) => {
        if (tty) process.stderr.write(`\r\x1b[K${progressLine(p)}`);
        else if (p.elapsedS - lastPrinted >= 5) { lastPrinted = p.elapsedS; process.stderr.write(`${progressLine(p)}\n`); }
      },
    });
    if (tty) process.stderr.write('\r\x1b[K');
    process.stdout.write(`${renderSummary(summary, options.out)}\n`);
    return EXIT[summary.result];
  } catch (error: unknown) {
    process.stderr.write(`\njepsen: the run failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    return 2;
  }
}

// Exit explicitly: a stray handle (a gRPC channel still backing off) must not keep the tool alive.
process.exit(await main(process.argv.slice(2)));
