// Wing & Gong's backtracking search for a linearization, with Lowe's memo cache.
//
// The 2n call/return entries sit in a doubly linked list in real-time order
// (calls before returns on equal times: intervals are closed). The candidates
// for the next linearization point are the calls before the first remaining
// return; reaching a return means that op was not linearized in time, so the
// search backtracks. Linearizing an op "lifts" its call and return out of the
// list; backtracking puts them back in LIFO order, which the untouched
// prev/next pointers of the lifted nodes make O(1).
//
// The cache remembers every (set of linearized ops, model state) pair already
// explored: reaching one again cannot lead anywhere new. The set is a bitset
// with an incremental Zobrist hash (one random word per op, XORed in O(1)).
//
// Ops with an unknown outcome return at +Infinity and always step legally, so
// once every definite op is linearized the rest can follow in any order: the
// search stops there (Knossos does the same). For the same reason an unknown
// op is never tried at a point where it would leave the state unchanged.

export interface SearchOp<S> {
  readonly call: number;
  /** +Infinity for an op whose outcome is unknown. */
  readonly ret: number;
  /** False for an unknown-outcome op (it need not be linearized before the end). */
  readonly definite: boolean;
  /** The next state, or undefined when the op cannot linearize in `state`. Pure. */
  step(state: S): S | undefined;
  /**
   * Unknown ops with the same class have identical effects. Among them only
   * the earliest-called one not yet linearized is tried: swapping two of them
   * in a linearization changes nothing, so trying each is wasted work.
   */
  readonly symmetryClass?: number;
}

export interface StateSpace<S> {
  init(): S;
  equal(a: S, b: S): boolean;
  hash(state: S): number;
}

export interface SearchBudget {
  /** Absolute time, in the units of now(), after which the search gives up. */
  readonly deadline: number;
  readonly now: () => number;
  /** Cache entries allowed before the search gives up for lack of memory. */
  readonly maxCacheEntries: number;
}

export type SearchResult =
  | { readonly verdict: 'ok' }
  | {
      readonly verdict: 'illegal';
      /** Op indices of the longest linearizable prefix found, in linearization order. */
      readonly longest: readonly number[];
    }
  | { readonly verdict: 'unknown'; readonly cause: 'timeout' | 'memory' };

/** How many loop turns pass between two looks at the clock (a step of the whole-store etcd model can be slow). */
const CLOCK_STRIDE = 64;

export function searchLinearization<S>(
  ops: readonly SearchOp<S>[],
  space: StateSpace<S>,
  budget: SearchBudget,
): SearchResult {
  let remainingDefinite = countDefinite(ops);
  if (remainingDefinite === 0) return { verdict: 'ok' };
  if (budget.now() >= budget.deadline) return { verdict: 'unknown', cause: 'timeout' };

  const order = entryOrder(ops);
  const list = new EntryList(order);
  const previousTwin = previousTwins(ops, order);
  const cache = new MemoCache(ops.length, space);
  const stackEntry: number[] = [];
  const stackState: S[] = [];
  let longest: number[] = [];
  let state = space.init();
  let entry = list.first();
  let turns = 0;

  while (entry !== -1) {
    if (++turns % CLOCK_STRIDE === 0) {
      if (budget.now() >= budget.deadline) return { verdict: 'unknown', cause: 'timeout' };
      if (cache.size > budget.maxCacheEntries) return { verdict: 'unknown', cause: 'memory' };
    }
    if ((entry & 1) === 0) {
      const id = entry >> 1;
      const op = ops[id];
      const twin = previousTwin[id] ?? -1;
      const twinPending = twin !== -1 && !cache.isLinearized(twin);
      const after = op === undefined || twinPending ? undefined : op.step(state);
      // An unknown op that would not change the state here can just as well
      // go at the very end (its return is at +Infinity): skip it.
      if (op !== undefined && after !== undefined && (op.definite || !space.equal(after, state))) {
        cache.toggle(id);
        if (cache.remember(after)) {
          stackEntry.push(entry);
          stackState.push(state);
          state = after;
          list.liftOp(entry);
          if (op.definite && --remainingDefinite === 0) return { verdict: 'ok' };
          if (stackEntry.length > longest.length) longest = stackEntry.map((e) => e >> 1);
          entry = list.first();
          continue;
        }
        cache.toggle(id);
      }
      entry = list.after(entry);
    } else {
      // A return before any acceptable call: this branch is a dead end.
      const top = stackEntry.pop();
      const before = stackState.pop();
      if (top === undefined || before === undefined) return { verdict: 'illegal', longest };
      const id = top >> 1;
      state = before;
      cache.toggle(id);
      if (ops[id]?.definite === true) remainingDefinite++;
      list.unliftOp(top);
      entry = list.after(top);
    }
  }
  // Unreachable for a well-formed list: every definite op has a finite return.
  return { verdict: 'illegal', longest };
}

function countDefinite<S>(ops: readonly SearchOp<S>[]): number {
  let count = 0;
  for (const op of ops) if (op.definite) count++;
  return count;
}

// The parts below are exported for their scenario tests (test/jepsen-like/wgl-parts.test.ts) only.

/** Entry e: op e >> 1, a call when e is even. Sorted by time, calls first on ties. */
export function entryOrder<S>(ops: readonly SearchOp<S>[]): Int32Array {
  const order = new Int32Array(2 * ops.length);
  for (let e = 0; e < order.length; e++) order[e] = e;
  const timeOf = (e: number): number => {
    const op = ops[e >> 1];
    return op === undefined ? 0 : (e & 1) === 0 ? op.call : op.ret;
  };
  order.sort((a, b) => {
    const ta = timeOf(a);
    const tb = timeOf(b);
    if (ta !== tb) return ta < tb ? -1 : 1;
    return (a & 1) - (b & 1) || a - b;
  });
  return order;
}

/** For each unknown op, the previous op (in call order) of its symmetry class, or -1. */
export function previousTwins<S>(ops: readonly SearchOp<S>[], order: Int32Array): Int32Array {
  const previousTwin = new Int32Array(ops.length).fill(-1);
  const lastOfClass = new Map<number, number>();
  for (const e of order) {
    const cls = (e & 1) === 0 ? ops[e >> 1]?.symmetryClass : undefined;
    if (cls === undefined) continue;
    previousTwin[e >> 1] = lastOfClass.get(cls) ?? -1;
    lastOfClass.set(cls, e >> 1);
  }
  return previousTwin;
}

/**
 * The entries as a doubly linked list behind a head sentinel (index 2n), in
 * real-time order; -1 ends it. A lifted node keeps its own prev/next, so
 * lifted nodes go back in LIFO order in O(1).
 */
export class EntryList {
  private readonly head: number;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;

  constructor(order: Int32Array) {
    this.head = order.length;
    this.next = new Int32Array(order.length + 1);
    this.prev = new Int32Array(order.length + 1);
    let last = this.head;
    for (const e of order) {
      this.next[last] = e;
      this.prev[e] = last;
      last = e;
    }
    this.next[last] = -1;
  }

  first(): number {
    return this.next[this.head] ?? -1;
  }

  after(e: number): number {
    return this.next[e] ?? -1;
  }

  /** Lifts the call entry `call` and its return (call + 1) out of the list. */
  liftOp(call: number): void {
    this.lift(call);
    this.lift(call + 1);
  }

  /** Undoes liftOp(call), which must be the latest lift not yet undone. */
  unliftOp(call: number): void {
    this.unlift(call + 1);
    this.unlift(call);
  }

  private lift(e: number): void {
    const p = this.prev[e] ?? 0;
    const q = this.next[e] ?? -1;
    this.next[p] = q;
    if (q !== -1) this.prev[q] = p;
  }

  private unlift(e: number): void {
    const p = this.prev[e] ?? 0;
    const q = this.next[e] ?? -1;
    if (q !== -1) this.prev[q] = e;
    this.next[p] = e;
  }
}

/**
 * The set of linearized ops (a bitset with an incremental Zobrist hash) and
 * Lowe's cache of (set, state) pairs already explored. The cache is flat to
 * spare the garbage collector: entry k keeps its bitset in pool[k*words ..],
 * its state in states[k], and the next entry of its hash chain in chain[k];
 * heads maps a hash to the first entry of its chain.
 */
export class MemoCache<S> {
  /** Cache entries so far. */
  size = 0;
  private readonly words: number;
  private readonly bits: Uint32Array;
  private readonly zobrist: Int32Array;
  private bitsHash = 0;
  private readonly heads = new Map<number, number>();
  private readonly states: S[] = [];
  private pool: Uint32Array;
  private chain = new Int32Array(1024);

  constructor(
    n: number,
    private readonly space: StateSpace<S>,
  ) {
    this.words = (n + 31) >>> 5;
    this.bits = new Uint32Array(this.words);
    this.zobrist = zobristKeys(n);
    this.pool = new Uint32Array(this.words * 1024);
  }

  isLinearized(id: number): boolean {
    return ((this.bits[id >>> 5] ?? 0) & (1 << (id & 31))) !== 0;
  }

  /** Adds op `id` to the linearized set, or takes it out. */
  toggle(id: number): void {
    const w = id >>> 5;
    this.bits[w] = (this.bits[w] ?? 0) ^ (1 << (id & 31));
    this.bitsHash ^= this.zobrist[id] ?? 0;
  }

  /** Adds (linearized set, state) to the cache; false if it was already there. */
  remember(state: S): boolean {
    const key = (this.bitsHash ^ Math.imul(this.space.hash(state), 0x9e3779b1)) | 0;
    const first = this.heads.get(key) ?? -1;
    for (let k = first; k !== -1; k = this.chain[k] ?? -1) {
      if (sameBits(this.pool, k * this.words, this.bits) && this.space.equal(this.states[k] as S, state)) return false;
    }
    if (this.size === this.chain.length) this.grow();
    this.pool.set(this.bits, this.size * this.words);
    this.chain[this.size] = first;
    this.states.push(state);
    this.heads.set(key, this.size);
    this.size++;
    return true;
  }

  /** Doubles the pool and the chains (amortized O(1) per entry). */
  private grow(): void {
    this.pool = copyInto(this.pool, new Uint32Array(this.pool.length * 2));
    this.chain = copyInto(this.chain, new Int32Array(this.chain.length * 2));
  }
}

/** `to` with `from` copied to its start. */
function copyInto<A extends Uint32Array | Int32Array>(from: A, to: A): A {
  to.set(from);
  return to;
}

function sameBits(pool: Uint32Array, offset: number, bits: Uint32Array): boolean {
  for (let i = 0; i < bits.length; i++) if (pool[offset + i] !== bits[i]) return false;
  return true;
}

/** Deterministic per-op random words (splitmix32), so runs are reproducible. */
function zobristKeys(n: number): Int32Array {
  const keys = new Int32Array(n);
  let x = 0x2545f491;
  for (let i = 0; i < n; i++) {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    keys[i] = z ^ (z >>> 16);
  }
  return keys;
}
