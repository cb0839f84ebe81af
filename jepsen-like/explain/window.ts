// The minimal failing window, as Knossos reports it: the search found a longest
// linearizable prefix P; the culprit is the first op (by return time) outside P
// — no extension of P could linearize it before it returned. The window is the
// culprit together with every op outside P that was invoked before the culprit
// returned: exactly the candidates the search tried and could not order. (A
// deletion-based reduction was tried first and dropped: deleting the writes
// always "minimises" a bad history to one lone read, which explains nothing.)

export interface TimedOp {
  readonly id: number;
  readonly call: number;
  readonly ret: number;
  readonly outcome: 'ok' | 'unknown';
}

export function failingWindow(ops: readonly TimedOp[], longestPrefix: readonly number[]): number[] {
  const linearized = new Set(longestPrefix);
  let culprit: TimedOp | undefined;
  for (const op of ops) {
    if (linearized.has(op.id) || op.outcome !== 'ok') continue;
    if (culprit === undefined || op.ret < culprit.ret) culprit = op;
  }
  if (culprit === undefined) return [];
  const stuckAt = culprit.ret;
  return ops
    .filter((op) => !linearized.has(op.id) && op.call <= stuckAt)
    .sort((a, b) => a.call - b.call)
    .map((op) => op.id);
}
