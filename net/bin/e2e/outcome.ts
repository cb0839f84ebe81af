// What one `go test -test.run '^Name$' -test.v` process said about its test.

export type Outcome = 'pass' | 'fail' | 'skip' | 'timeout' | 'error';

export interface Verdict {
  readonly outcome: Outcome;
  /** The first reason the test gave (a failed test's first `file.go:N: …` line), or ''. */
  readonly reason: string;
}

const REASON_LIMIT = 200;

/** Reads the verdict off the test's output; `killed` means our own time limit stopped it. */
export function verdictOf(name: string, output: string, killed: boolean): Verdict {
  const lines = output.split(/\r?\n/);
  const said = (word: string): boolean => lines.some((line) => line.startsWith(`--- ${word}: ${name} `));
  if (said('PASS')) return { outcome: 'pass', reason: '' };
  if (said('SKIP')) return { outcome: 'skip', reason: firstReason(lines) };
  const timedOut = killed || lines.some((line) => line.startsWith('panic: test timed out'));
  if (timedOut) return { outcome: 'timeout', reason: firstReason(lines) || 'no verdict within the time limit' };
  return { outcome: said('FAIL') ? 'fail' : 'error', reason: firstReason(lines) || lastLine(lines) };
}

/** The first line a test wrote through t.Log/t.Error/t.Fatal (`    file.go:N: text`). */
function firstReason(lines: readonly string[]): string {
  const line = lines.find((l) => /^\s+\w+\.go:\d+: /.test(l));
  return line === undefined ? '' : line.trim().slice(0, REASON_LIMIT);
}

function lastLine(lines: readonly string[]): string {
  return (lines.filter((l) => l.trim() !== '').pop() ?? '').trim().slice(0, REASON_LIMIT);
}
