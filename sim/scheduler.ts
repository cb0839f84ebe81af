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
  // Appended (codes above unchanged): the KV workload's client requests and timeouts.
  'client', 'clientTimeout',
  // Appended: watch clients (stream opens, health checks, progress requests) and deliveries.
  'watch', 'watchDeliver',
  // Appended: membership changes (the membership nemesis's steps, a removed member stopping).
  'membership',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
const KIND_CODE: ReadonlyMap<EventKind, number> = new Map(EVENT_KINDS.map((kind, code) => [kind, code]));
/** Deliveries are ~87% of events: their code is compared for, not looked up (a Map get was ~1.4% of a run). */
const DELIVER_CODE = EVENT_KINDS.indexOf('deliver');

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
  readonly info?: (() => unknown) | undefined;
  readonly run: () => void;
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

/** A bound on the work one event may leave for its end (a member leaves one flush per turn). */
const MAX_END_OF_EVENT_WORK = 4096;

export class Scheduler {
  // The heap is kept in parallel arrays (times, sequence numbers, specs) so that
  // scheduling allocates nothing beyond the caller's spec: this loop runs millions
  // of times per second.
  private times: Float64Array = new Float64Array(1024);
  private seqs: Float64Array = new Float64Array(1024);
  private specs: (EventSpec | undefined)[] = [];
  private size = 0;
  private nowUsValue = 0;
  private nextSeq = 0;
  private executed = 0;
  private hash = FNV_OFFSET;
  private sink: TraceSink | null = null;
  private halted = false;
  /** True while an event's `run` (or its end-of-event work) executes. */
  private inEvent = false;
  /** Work the running event left for its end (`atEndOfEvent`), in the order it was left. */
  private endOfEvent: (() => void)[] = [];

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
    return this.size;
  }

  /** The running trace hash as 8 hex digits. */
  get traceHash(): string {
    return this.hash.toString(16).padStart(8, '0');
  }

  /** True when a trace sink is attached (callers may skip building trace detail). */
  get tracing(): boolean {
    return this.sink !== null;
  }

  /** A call, so that the compiler does not assume an event cannot have halted. */
  private haltRequested(): boolean {
    return this.halted;
  }

  /** True when the last `run()` ended because an event called `halt()` (not at its time or its `stop`). */
  lastRunHalted(): boolean {
    return this.halted;
  }

  /** Makes the running `run()` return after the current event (a verdict is in). */
  halt(): void {
    this.halted = true;
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

  /**
   * Runs `work` after the running event, before the next one: as the production host
   * defers work to the end of its event-loop turn (the gRPC host flushes batched reads
   * so). Work left outside any event (setup, a test's direct call) runs at once. Not
   * hashed: it belongs to the event that left it.
   */
  atEndOfEvent(work: () => void): void {
    if (!this.inEvent) {
      work();
      return;
    }
    invariant(this.endOfEvent.length < MAX_END_OF_EVENT_WORK, () => `more than ${MAX_END_OF_EVENT_WORK} end-of-event tasks in one event`);
    this.endOfEvent.push(work);
  }

  /** Schedules an event `delayUs` from now (rounded down to whole microseconds). */
  after(delayUs: number, spec: EventSpec): void {
    invariant(delayUs >= 0 && Number.isFinite(delayUs), () => `event delay must be finite and ≥ 0, got ${delayUs}`);
    this.at(this.nowUsValue + Math.floor(delayUs), spec);
  }

  /** Schedules an event at an absolute time, never in the past. */
  at(timeUs: number, spec: EventSpec): void {
    invariant(Number.isSafeInteger(timeUs), () => `event time must be an integer, got ${timeUs}`);
    invariant(timeUs >= this.nowUsValue, () => `event scheduled in the past: ${timeUs} < ${this.nowUsValue}`);
    this.push(timeUs, this.nextSeq++, spec);
  }

  /**
   * Runs events in order until the next event lies beyond `untilUs` (or there is
   * none), then sets the time to `untilUs`; or until an event calls `halt()` (or
   * `stop()` returns true after an event), leaving the time at that event.
   */
  run(untilUs: number, stop?: () => boolean): void {
    this.halted = false;
    this.inEvent = false; // an event that threw ended the run it was in
    this.endOfEvent.length = 0;
    for (;;) {
      if (this.size === 0 || (this.times[0] ?? 0) > untilUs) {
        this.nowUsValue = Math.max(this.nowUsValue, untilUs);
        break;
      }
      const timeUs = this.times[0] ?? 0;
      const seq = this.seqs[0] ?? 0;
      const spec = this.specs[0];
      invariant(spec !== undefined, 'scheduler heap lost an event');
      this.pop();
      this.nowUsValue = timeUs;
      this.executed++;
      const kindCode = spec.kind === 'deliver' ? DELIVER_CODE : (KIND_CODE.get(spec.kind) ?? 0);
      let h = fnvWord(this.hash, timeUs % 0x1_0000_0000);
      h = fnvWord(h, kindCode);
      h = fnvWord(h, spec.node);
      h = fnvWord(h, spec.a ?? 0);
      this.hash = fnvWord(h, spec.b ?? 0);
      if (this.sink !== null) {
        this.sink({
          seq, timeUs, kind: spec.kind, node: spec.node,
          a: spec.a ?? 0, b: spec.b ?? 0, info: spec.info === undefined ? undefined : spec.info(),
        });
      }
      this.inEvent = true;
      spec.run();
      if (this.endOfEvent.length !== 0) this.runEndOfEvent();
      this.inEvent = false;
      if (this.haltRequested() || (stop !== undefined && stop())) break;
    }
  }

  /** Runs the running event's end-of-event work, including work that work leaves. */
  private runEndOfEvent(): void {
    const work = this.endOfEvent;
    for (let i = 0; i < work.length; i++) (work[i] as () => void)();
    work.length = 0;
  }

  /** Visits every pending event in heap order (not time order): the viewer draws what is in flight. */
  forEachPending(visit: (timeUs: number, spec: EventSpec) => void): void {
    for (let i = 0; i < this.size; i++) {
      const spec = this.specs[i];
      invariant(spec !== undefined, 'scheduler heap lost an event');
      visit(this.times[i] ?? 0, spec);
    }
  }

  private before(i: number, time: number, seq: number): boolean {
    const t = this.times[i] ?? 0;
    return t < time || (t === time && (this.seqs[i] ?? 0) < seq);
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    this.times = times;
    const seqs = new Float64Array(this.seqs.length * 2);
    seqs.set(this.seqs);
    this.seqs = seqs;
  }

  private push(time: number, seq: number, spec: EventSpec): void {
    if (this.size === this.times.length) this.grow();
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.before(parent, time, seq)) break;
      this.moveSlot(parent, i);
      i = parent;
    }
    this.times[i] = time;
    this.seqs[i] = seq;
    this.specs[i] = spec;
  }

  private pop(): void {
    const n = --this.size;
    const times = this.times;
    const seqs = this.seqs;
    const specs = this.specs;
    const time = times[n] ?? 0;
    const seq = seqs[n] ?? 0;
    const spec = specs[n];
    specs[n] = undefined;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && this.before(right, times[left] ?? 0, seqs[left] ?? 0)) child = right;
      if (!this.before(child, time, seq)) break;
      this.moveSlot(child, i);
      i = child;
    }
    times[i] = time;
    seqs[i] = seq;
    specs[i] = spec;
  }

  /** Heap slot `from`'s event moves to slot `to` (a sift step; `from` is overwritten next). */
  private moveSlot(from: number, to: number): void {
    this.times[to] = this.times[from] ?? 0;
    this.seqs[to] = this.seqs[from] ?? 0;
    this.specs[to] = this.specs[from];
  }
}
