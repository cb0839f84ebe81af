// The Random port: the only source of randomness the core may use.
//
// The simulator binds a seeded generator (sim/), production binds crypto.
// The API is integer-only on purpose (TigerBeetle's PRNG makes the same choice):
// the core never needs floats, and integers keep seeds portable.

export interface Random {
  /** A uniformly distributed integer in [0, bound). `bound` is a positive safe integer. */
  intBelow(bound: number): number;
}
