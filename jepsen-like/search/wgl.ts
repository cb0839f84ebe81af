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
  const n = ops.length;
  let remainingDefinite = 0;
  for (const op of ops) if (op.definite) remainingDefinite++;
  if (remainingDefinite === 0) return { verdict: 'ok' };
  if (budget.now() >= budget.deadline) return { verdict: 'unknown', cause: 'timeout' };

  // Entry e: op e >> 1, a call when e is even. Sort by time, calls first on ties.
  const order = new Int32Array(2 * n);
  for (let e = 0; e < 2 * n; e++) order[e] = e;
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
  const head = 2 * n;
  const next = new Int32Array(2 * n + 1);
  const prev = new Int32Array(2 * n + 1);
  let last = head;
  for (let i = 0; i < 2 * n; i++) {
    const e = order[i] ?? 0;
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  next[last] = -1;

  const lift = (e: number): void => {
    const p = prev[e] ?? 0;
    const q = next[e] ?? -1;
    next[p] = q;
    if (q !== -1) prev[q] = p;
  };
  const unlift = (e: number): void => {
    const p = prev[e] ?? 0;
    const q = next[e] ?? -1;
    if (q !== -1) prev[q] = e;
    next[p] = e;
  };

  // For each unknown op, the previous op (in call order) of its symmetry class.
  const previousTwin = new Int32Array(n).fill(-1);
  const lastOfClass = new Map<number, number>();
  for (let i = 0; i < 2 * n; i++) {
    const e = order[i] ?? 0;
    const cls = (e & 1) === 0 ? ops[e >> 1]?.symmetryClass : undefined;
    if (cls === undefined) continue;
    previousTwin[e >> 1] = lastOfClass.get(cls) ?? -1;
    lastOfClass.set(cls, e >> 1);
  }

  const words = (n + 31) >>> 5;
  const bits = new Uint32Array(words);
  const zobrist = zobristKeys(n);
  let bitsHash = 0;

  // The cache, flat to spare the garbage collector: entry k keeps its bitset in
  // pool[k*words ..], its state in states[k], and the next entry of its hash
  // chain in chain[k]; heads maps a hash to the first entry of its chain.
  const heads = new Map<number, number>();
  const states: S[] = [];
  let pool = new Uint32Array(words * 1024);
  let chain = new Int32Array(1024);
  let cacheSize = 0;
  /** Adds (bits, state) to the cache; false if it was already there. */
  const remember = (state: S): boolean => {
    const key = (bitsHash ^ Math.imul(space.hash(state), 0x9e3779b1)) | 0;
    const first = heads.get(key) ?? -1;
    for (let k = first; k !== -1; k = chain[k] ?? -1) {
      if (sameBits(pool, k * words, bits) && space.equal(states[k] as S, state)) return false;
    }
    if (cacheSize === chain.length) {
      const biggerPool = new Uint32Array(pool.length * 2);
      biggerPool.set(pool);
      pool = biggerPool;
      const biggerChain = new Int32Array(chain.length * 2);
      biggerChain.set(chain);
      chain = biggerChain;
    }
    pool.set(bits, cacheSize * words);
    chain[cacheSize] = first;
    states.push(state);
    heads.set(key, cacheSize);
    cacheSize++;
    return true;
  };

  const stackEntry: number[] = [];
  const stackState: S[] = [];
  let longest: number[] = [];
  let state = space.init();
  let entry = next[head] ?? -1;
  let turns = 0;

  while (entry !== -1) {
    if (++turns % CLOCK_STRIDE === 0) {
      if (budget.now() >= budget.deadline) return { verdict: 'unknown', cause: 'timeout' };
      if (cacheSize > budget.maxCacheEntries) return { verdict: 'unknown', cause: 'memory' };
    }
    if ((entry & 1) === 0) {
      const id = entry >> 1;
      const op = ops[id];
      const twin = previousTwin[id] ?? -1;
      const twinPending = twin !== -1 && ((bits[twin >>> 5] ?? 0) & (1 << (twin & 31))) === 0;
      const after = op === undefined || twinPending ? undefined : op.step(state);
      // An unknown op that would not change the state here can just as well
      // go at the very end (its return is at +Infinity): skip it.
      if (op !== undefined && after !== undefined && (op.definite || !space.equal(after, state))) {
        const w = id >>> 5;
        const mask = 1 << (id & 31);
        bits[w] = (bits[w] ?? 0) | mask;
        bitsHash ^= zobrist[id] ?? 0;
        if (remember(after)) {
          stackEntry.push(entry);
          stackState.push(state);
          state = after;
          lift(entry);
          lift(entry + 1);
          if (op.definite && --remainingDefinite === 0) return { verdict: 'ok' };
          if (stackEntry.length > longest.length) longest = stackEntry.map((e) => e >> 1);
          entry = next[head] ?? -1;
          continue;
        }
        bits[w] = (bits[w] ?? 0) & ~mask;
        bitsHash ^= zobrist[id] ?? 0;
      }
      entry = next[entry] ?? -1;
    } else {
      // A return before any acceptable call: this branch is a dead end.
      const top = stackEntry.pop();
      const before = stackState.pop();
      if (top === undefined || before === undefined) return { verdict: 'illegal', longest };
      const id = top >> 1;
      state = before;
      bits[id >>> 5] = (bits[id >>> 5] ?? 0) & ~(1 << (id & 31));
      bitsHash ^= zobrist[id] ?? 0;
      if (ops[id]?.definite === true) remainingDefinite++;
      unlift(top + 1);
      unlift(top);
      entry = next[top] ?? -1;
    }
  }
  // Unreachable for a well-formed list: every definite op has a finite return.
  return { verdict: 'illegal', longest };
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
