// Virtual time and the event queue of one simulation run.
//
// Time is an integer count of microseconds that only moves when the next event is
// taken from the queue; nothing here reads a real clock, sets a timer or awaits.
// Events are ordered by (time, sequence): two events at the same instant run in the
// order they were scheduled, so the order never depends on heap accidents.
//
// Every executed event feeds a running trace hash (FNV-1a over 32-bit words of a
// compact description: time, kind, node and two numbers the caller chooses). Two runs
// of one seed execute the same events in the same order iff their hashes agree, which
// is what the determinism tests compare.

import { invariant } from '../core/util/invariant.js';

/** What kind of event ran; the code is hashed, the name is printed in traces. */
export const EVENT_KINDS = [
  'tick', 'deliver', 'disk', 'propose', 'read', 'crash', 'restart', 'pause', 'resume',
  'partition', 'heal', 'clock', 'diskFault', 'phase', 'check', 'other',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
const KIND_CODE: ReadonlyMap<EventKind, number> = new Map(EVENT_KINDS.map((kind, code) => [kind, code]));

/** One line of the trace (`--trace FILE`): what ran, when, where. */
export interface TraceRecord {
  readonly seq: number;
  readonly timeUs: number;
  readonly kind: EventKind;
  readonly node: number;
  readonly a: number;
  readonly b: number;
  /** Extra detail for readers (message fields, fault parameters); never hashed. */
  readonly info?: unknown;
}

export type TraceSink = (record: TraceRecord) => void;

export interface EventSpec {
  readonly kind: EventKind;
  /** The member the event concerns, or 0. */
  readonly node: number;
  /** Two cheap numbers that identify the event further (hashed). */
  readonly a?: number;
  readonly b?: number;
  /** Computed only when a trace sink is attached. */
  readonly info?: () => unknown;
  readonly run: () => void;
}

interface QueuedEvent {
  readonly timeUs: number;
  readonly seq: number;
  readonly kindCode: number;
  readonly spec: EventSpec;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Folds one 32-bit word into an FNV-1a hash (a word at a time: 4× fewer steps than bytes). */
export function fnvWord(hash: number, word: number): number {
  return Math.imul(hash ^ (word | 0), FNV_PRIME) >>> 0;
}

/** Folds a non-negative integer up to 2^53 into a hash as two words. */
export function fnvNumber(hash: number, value: number): number {
  return fnvWord(fnvWord(hash, value % 0x1_0000_0000), Math.floor(value / 0x1_0000_0000));
}

/** FNV-1a over bytes (payload checksums). */
export function fnvBytes(hash: number, bytes: Uint8Array): number {
  let h = hash;
  for (let i = 0; i < bytes.length; i++) {
    h = Math.imul(h ^ (bytes[i] as number), FNV_PRIME);
  }
  return h >>> 0;
}

export const FNV_INITIAL = FNV_OFFSET;

export class Scheduler {
  private readonly heap: QueuedEvent[] = [];
  private nowUsValue = 0;
  private nextSeq = 0;
  private executed = 0;
  private hash = FNV_OFFSET;
  private sink: TraceSink | null = null;

  get nowUs(): number {
    return this.nowUsValue;
  }

  get nowMs(): number {
    return this.nowUsValue / 1000;
  }

  /** Events executed so far. */
  get events(): number {
    return this.executed;
  }

  get pending(): number {
    return this.heap.length;
  }

  /** The running trace hash as 8 hex digits. */
  get traceHash(): string {
    return this.hash.toString(16).padStart(8, '0');
  }

  setTraceSink(sink: TraceSink | null): void {
    this.sink = sink;
  }

  /** Writes a record to the trace without running an event (hashed like one). */
  note(kind: EventKind, node: number, info: () => unknown): void {
    const code = KIND_CODE.get(kind) ?? 0;
    this.hash = fnvWord(fnvWord(this.hash, code | 0x100), node);
    if (this.sink !== null) {
      this.sink({ seq: -1, timeUs: this.nowUsValue, kind, node, a: 0, b: 0, info: info() });
    }
  }

  /** Schedules an event `delayUs` from now (rounded down to whole microseconds). */
  after(delayUs: number, spec: EventSpec): void {
    invariant(delayUs >= 0 && Number.isFinite(delayUs), `event delay must be finite and ≥ 0, got ${delayUs}`);
    this.at(this.nowUsValue + Math.floor(delayUs), spec);
  }

  /** Schedules an event at an absolute time, never in the past. */
  at(timeUs: number, spec: EventSpec): void {
    invariant(Number.isSafeInteger(timeUs), `event time must be an integer, got ${timeUs}`);
    invariant(timeUs >= this.nowUsValue, `event scheduled in the past: ${timeUs} < ${this.nowUsValue}`);
    const event: QueuedEvent = { timeUs, seq: this.nextSeq++, kindCode: KIND_CODE.get(spec.kind) ?? 0, spec };
    this.push(event);
  }

  /**
   * Runs events in order until the next event lies beyond `untilUs` (or there is
   * none), then sets the time to `untilUs`; or until `stop()` returns true after an
   * event, leaving the time at that event.
   */
  run(untilUs: number, stop: () => boolean = () => false): void {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.timeUs > untilUs) {
        this.nowUsValue = Math.max(this.nowUsValue, untilUs);
        break;
      }
      this.pop();
      this.nowUsValue = top.timeUs;
      this.executed++;
      const spec = top.spec;
      let h = fnvWord(this.hash, top.timeUs % 0x1_0000_0000);
      h = fnvWord(h, top.kindCode);
      h = fnvWord(h, spec.node);
      h = fnvWord(h, spec.a ?? 0);
      this.hash = fnvWord(h, spec.b ?? 0);
      if (this.sink !== null) {
        this.sink({
          seq: top.seq, timeUs: top.timeUs, kind: EVENT_KINDS[top.kindCode] ?? 'other', node: spec.node,
          a: spec.a ?? 0, b: spec.b ?? 0, info: spec.info === undefined ? undefined : spec.info(),
        });
      }
      spec.run();
      if (stop()) break;
    }
  }

  private static before(x: QueuedEvent, y: QueuedEvent): boolean {
    return x.timeUs < y.timeUs || (x.timeUs === y.timeUs && x.seq < y.seq);
  }

  private push(event: QueuedEvent): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = heap[parentIndex] as QueuedEvent;
      if (!Scheduler.before(event, parent)) break;
      heap[i] = parent;
      i = parentIndex;
    }
    heap[i] = event;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    const n = heap.length;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && Scheduler.before(heap[right] as QueuedEvent, heap[left] as QueuedEvent)) child = right;
      const c = heap[child] as QueuedEvent;
      if (!Scheduler.before(c, last)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
  }
}
