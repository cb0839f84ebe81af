// Pairs Jepsen-style events (invoke, then ok / fail / info by the same
// process) into operations. The position of an event in the file is its time:
// Jepsen histories are written in real-time order.

import { HistoryFormatError } from '../history.js';

export type EventType = 'invoke' | 'ok' | 'fail' | 'info';

export interface JepsenEvent {
  readonly line: number;
  readonly process: number | string;
  readonly type: EventType;
  readonly f: string;
  readonly value: unknown;
}

export interface PairedOp {
  readonly process: number | string;
  readonly f: string;
  readonly invokeValue: unknown;
  /** undefined while the op never completed. */
  readonly completeValue: unknown;
  /** "open": no completion at all (the history ended first). */
  readonly completion: 'ok' | 'fail' | 'info' | 'open';
  readonly call: number;
  readonly ret: number;
  readonly line: number;
  readonly completionLine: number;
}

export function isEventType(x: unknown): x is EventType {
  return x === 'invoke' || x === 'ok' || x === 'fail' || x === 'info';
}

/**
 * A completion without a pending invoke is an error, except an info (Jepsen's
 * nemesis and crash notices), which is ignored. A process whose op ended in
 * info is retired: Jepsen never reuses it, and reusing it would break the
 * per-process order the checker relies on.
 */
export function pairEvents(events: readonly JepsenEvent[]): PairedOp[] {
  const pending = new Map<number | string, { event: JepsenEvent; time: number; index: number }>();
  const retired = new Map<number | string, number>();
  const ops: (PairedOp | undefined)[] = [];
  events.forEach((event, time) => {
    const open = pending.get(event.process);
    if (event.type === 'invoke') {
      if (open !== undefined) {
        throw new HistoryFormatError(
          event.line,
          `process ${String(event.process)} invokes while its op from line ${open.event.line} is still pending`,
        );
      }
      const retiredAt = retired.get(event.process);
      if (retiredAt !== undefined) {
        throw new HistoryFormatError(
          event.line,
          `process ${String(event.process)} was retired by its unknown outcome on line ${retiredAt} and cannot invoke again`,
        );
      }
      pending.set(event.process, { event, time, index: ops.length });
      ops.push(undefined);
      return;
    }
    if (open === undefined) {
      if (event.type === 'info') return;
      throw new HistoryFormatError(event.line, `:${event.type} for process ${String(event.process)} with no pending invoke`);
    }
    if (open.event.f !== event.f) {
      throw new HistoryFormatError(event.line, `completion :${event.f} does not match the invoke :${open.event.f} on line ${open.event.line}`);
    }
    pending.delete(event.process);
    if (event.type === 'info') retired.set(event.process, event.line);
    ops[open.index] = {
      process: event.process,
      f: event.f,
      invokeValue: open.event.value,
      completeValue: event.value,
      completion: event.type,
      call: open.time,
      ret: event.type === 'info' ? Infinity : time,
      line: open.event.line,
      completionLine: event.line,
    };
  });
  for (const open of pending.values()) {
    ops[open.index] = {
      process: open.event.process,
      f: open.event.f,
      invokeValue: open.event.value,
      completeValue: undefined,
      completion: 'open',
      call: open.time,
      ret: Infinity,
      line: open.event.line,
      completionLine: open.event.line,
    };
  }
  return ops.filter((op): op is PairedOp => op !== undefined);
}
