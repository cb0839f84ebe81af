// Go's strconv.ParseUint(s, 0, bits), which etcd's uint32 flags use (pkg/flags.Uint32Value):
// base from the prefix (0x, 0o, 0b, a bare leading 0 for octal, else decimal), `_` between
// digits allowed, no sign. Its two refusals keep Go's words, as etcd prints them.

export type GoUintResult =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly error: string };

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';

/** As Go: a prefix counts only with a digit after it ("0x" alone is octal 0 then a bad "x"). */
function baseOf(s: string): { base: number; body: string } {
  if (s.length > 1 && s[0] === '0') {
    const marker = s.length >= 3 ? s[1]?.toLowerCase() : undefined;
    if (marker === 'x') return { base: 16, body: s.slice(2) };
    if (marker === 'o') return { base: 8, body: s.slice(2) };
    if (marker === 'b') return { base: 2, body: s.slice(2) };
    return { base: 8, body: s.slice(1) };
  }
  return { base: 10, body: s };
}

/** Go's underscoreOK: each `_` sits between digits, or right after a base prefix. */
function underscoresOk(s: string): boolean {
  // '^' start, 'd' a digit or a prefix, '_' an underscore
  let last: '^' | 'd' | '_' = '^';
  let i = 0;
  if (s.length >= 2 && s[0] === '0' && /[xXoObB]/.test(s[1] ?? '')) {
    last = 'd';
    i = 2;
  }
  for (; i < s.length; i++) {
    if (s[i] === '_') {
      if (last !== 'd') return false;
      last = '_';
    } else {
      last = 'd';
    }
  }
  return last !== '_';
}

/** ParseUint(raw, 0, bits) for bits ≤ 32 (a JS number holds every value exactly). */
export function parseGoUint(raw: string, bits: 8 | 16 | 32 = 32): GoUintResult {
  const syntax = { ok: false, error: `strconv.ParseUint: parsing ${JSON.stringify(raw)}: invalid syntax` } as const;
  const range = { ok: false, error: `strconv.ParseUint: parsing ${JSON.stringify(raw)}: value out of range` } as const;
  if (raw === '') return syntax;
  const { base, body } = baseOf(raw);
  const max = 2 ** bits - 1;
  let value = 0;
  let underscores = false;
  for (const c of body) {
    if (c === '_') {
      underscores = true;
      continue;
    }
    const digit = DIGITS.indexOf(c.toLowerCase());
    if (digit < 0 || digit >= base) return syntax;
    value = value * base + digit;
    // As Go, an overflow is reported where it happens, before any later bad character.
    if (value > max) return range;
  }
  if (underscores && !underscoresOk(raw)) return syntax;
  return { ok: true, value };
}
