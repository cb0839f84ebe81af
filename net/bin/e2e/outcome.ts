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
  // The suite's own limit (testutil.FatalStack: "test timed out after 15s", then a stack dump), Go's, or ours.
  const timedOut = killed || lines.some((line) => line.startsWith('panic: test timed out') || /^\s+testutil\.go:\d+: test timed out/.test(line));
  if (timedOut) return { outcome: 'timeout', reason: firstReason(lines) || 'no verdict within the time limit' };
  return { outcome: said('FAIL') ? 'fail' : 'error', reason: firstReason(lines) || lastLine(lines) };
}

/**
 * The line saying why the test failed: the first that a test wrote through t.Error or
 * t.Fatal (`    file.go:N: text`) and that reads like a complaint (t.Log lines come first
 * in some tests), else the first such line at all; never testutil's goroutine dump.
 */
function firstReason(lines: readonly string[]): string {
  const written = lines.filter((l) => /^\s+\w+\.go:\d+: /.test(l) && !/^\s+testutil\.go:/.test(l));
  const line = written.find((l) => /error|expected|fail|could not|unexpected/i.test(l)) ?? written[0];
  return line === undefined ? '' : condensed(line.trim());
}

/**
 * etcd's helpers report `read /dev/ptmx: input/output error (expected "X", got ["line" "line" …])`:
 * the pty's end of file is noise, and of what was got, the last line (etcdctl's `Error: …`) says the most.
 */
function condensed(reason: string): string {
  const quiet = reason.replaceAll('read /dev/ptmx: input/output error ', '');
  const got = /^(.*), got \[(.*)\]\)+$/.exec(quiet);
  const lastGot = got?.[2]?.split('" "').pop()?.replace(/^"|"$/g, '').replaceAll('\\r\\n', '').trim();
  const short = got === null || lastGot === undefined ? quiet : `${got[1] ?? ''}, got "${lastGot}")`;
  return short.slice(0, REASON_LIMIT);
}

function lastLine(lines: readonly string[]): string {
  return (lines.filter((l) => l.trim() !== '').pop() ?? '').trim().slice(0, REASON_LIMIT);
}
