// JSON text read as Go 1.19's encoding/json reads it, so that the gateway refuses the
// bodies etcd's gateway refuses with the same words. etcd's grpc-gateway hands the body
// to a json.Decoder (the first value counts, what follows it is never read; a body of
// only whitespace is "no request"), and jsonpb later re-reads some scalars with
// json.Unmarshal (the whole text must be one value). Both report the first byte that
// cannot continue the text, as "invalid character 'x' <where>"; running out of text
// reads "unexpected EOF" (Decoder) or "unexpected end of JSON input" (Unmarshal).
//
// Values keep what jsonpb needs later: numbers as their text (int64s must not pass
// through a double), strings both as written (jsonpb strips the quotes of a quoted
// number and parses what is inside) and unescaped to bytes the way Go unescapes them
// (invalid UTF-8 and lone surrogates become U+FFFD). Objects keep the last of
// duplicate keys, as decoding into a Go map does.
//
// The parser is a loop over an explicit stack: nesting is bounded by Go's limit
// (10000), not by the JavaScript call stack.

export type JsonNode =
  | { readonly kind: 'object'; readonly members: ReadonlyMap<string, JsonNode> }
  | { readonly kind: 'array'; readonly items: readonly JsonNode[] }
  | { readonly kind: 'string'; readonly raw: Uint8Array; readonly value: Uint8Array }
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'null' };

export type Parsed =
  /** `end`: the offset just after the value (a Decoder reads the next value from there). */
  | { readonly ok: true; readonly value: JsonNode; readonly end: number }
  | { readonly ok: false; readonly error: string }
  /** Decoder only: nothing but whitespace (Go's io.EOF). */
  | { readonly ok: 'empty' };

/** Go's maxNestingDepth. */
const MAX_DEPTH = 10_000;

/** json.Decoder.Decode: the first value of `bytes`; bytes after it are not looked at. */
export function decodeFirstValue(bytes: Uint8Array): Parsed {
  return new Parser(bytes, 'decoder').run();
}

/** json.Unmarshal's reading: `bytes` must hold exactly one value (and whitespace). */
export function unmarshalWhole(bytes: Uint8Array): Parsed {
  return new Parser(bytes, 'unmarshal').run();
}

/** A syntax error, or the end of the text where more was needed (with the error a space there would give). */
type Step<T> = { readonly value: T; readonly next: number } | { readonly error: string } | { readonly eof: string | null };

interface Frame {
  readonly kind: 'object' | 'array';
  readonly members: Map<string, JsonNode>;
  readonly items: JsonNode[];
  key: string;
}

class Parser {
  private at = 0;
  private readonly stack: Frame[] = [];

  constructor(private readonly bytes: Uint8Array, private readonly mode: 'decoder' | 'unmarshal') {}

  run(): Parsed {
    let expect: 'value' | 'valueOrEnd' | 'keyOrEnd' | 'key' | 'colon' | 'after' = 'value';
    for (;;) {
      this.skipSpace();
      const c = this.bytes[this.at];
      if (c === undefined) return this.endOfText(expect);
      switch (expect) {
        case 'colon':
          if (c !== 0x3a) return this.fail(c, 'after object key');
          this.at++;
          expect = 'value';
          continue;
        case 'keyOrEnd':
        case 'key': {
          if (c === 0x7d && expect === 'keyOrEnd') {
            this.at++;
            const done = this.close();
            if (done !== null) return done;
            expect = 'after';
            continue;
          }
          if (c !== 0x22) return this.fail(c, 'looking for beginning of object key string');
          const key = scanString(this.bytes, this.at);
          if (!('value' in key)) return this.stop(key);
          this.top().key = utf8Text(key.value.value);
          this.at = key.next;
          expect = 'colon';
          continue;
        }
        case 'after': {
          const step = this.afterValue(c);
          if (typeof step !== 'string') return step;
          expect = step;
          continue;
        }
        case 'valueOrEnd':
          if (c === 0x5d) {
            this.at++;
            const done = this.close();
            if (done !== null) return done;
            expect = 'after';
            continue;
          }
          break;
        case 'value': break;
      }
      const opened = this.value(c);
      if (opened === null) {
        expect = this.topFrame()?.kind === 'object' ? 'keyOrEnd' : 'valueOrEnd';
        continue;
      }
      if ('ok' in opened) return opened;
      const done = this.add(opened.node);
      if (done !== null) return done;
      expect = 'after';
    }
  }

  /** A value starting at `c`: a scalar read whole, or null when a container was opened. */
  private value(c: number): { readonly node: JsonNode } | Parsed | null {
    if (c === 0x7b || c === 0x5b) {
      if (this.stack.length >= MAX_DEPTH) return this.fail(c, 'exceeded max depth');
      this.stack.push({ kind: c === 0x7b ? 'object' : 'array', members: new Map(), items: [], key: '' });
      this.at++;
      return null;
    }
    const scalar = scanScalar(this.bytes, this.at);
    if (!('value' in scalar)) return this.stop(scalar);
    this.at = scalar.next;
    return { node: scalar.value };
  }

  /** After a value inside a container: a separator, the container's end, or an error. */
  private afterValue(c: number): 'key' | 'value' | 'after' | Parsed {
    const frame = this.top();
    if (c === 0x2c) {
      this.at++;
      return frame.kind === 'object' ? 'key' : 'value';
    }
    if ((c === 0x7d && frame.kind === 'object') || (c === 0x5d && frame.kind === 'array')) {
      this.at++;
      return this.close() ?? 'after';
    }
    return this.fail(c, frame.kind === 'object' ? 'after object key:value pair' : 'after array element');
  }

  /** Ends the innermost container; the whole text's result if it was the outermost. */
  private close(): Parsed | null {
    const frame = this.stack.pop();
    if (frame === undefined) return this.fail(0x20, '');
    const node: JsonNode = frame.kind === 'object' ? { kind: 'object', members: frame.members } : { kind: 'array', items: frame.items };
    return this.add(node);
  }

  /** Puts a finished value in its container; at the top level, finishes the text. */
  private add(node: JsonNode): Parsed | null {
    const frame = this.topFrame();
    if (frame === undefined) return this.finish(node);
    if (frame.kind === 'object') frame.members.set(frame.key, node);
    else frame.items.push(node);
    return null;
  }

  private finish(node: JsonNode): Parsed {
    if (this.mode === 'unmarshal') {
      this.skipSpace();
      const c = this.bytes[this.at];
      if (c !== undefined) return this.fail(c, 'after top-level value');
    }
    return { ok: true, value: node, end: this.at };
  }

  private endOfText(expect: string): Parsed {
    if (this.mode === 'decoder') {
      return expect === 'value' && this.stack.length === 0 ? { ok: 'empty' } : { ok: false, error: 'unexpected EOF' };
    }
    return { ok: false, error: 'unexpected end of JSON input' };
  }

  /** A scalar's scan stopped: its error, or (at the end of the text) what the mode says there. */
  private stop(step: { readonly error: string } | { readonly eof: string | null }): Parsed {
    if ('error' in step) return { ok: false, error: step.error };
    if (this.mode === 'decoder') return { ok: false, error: 'unexpected EOF' };
    return { ok: false, error: step.eof ?? 'unexpected end of JSON input' };
  }

  private fail(c: number, where: string): Parsed {
    return { ok: false, error: syntaxError(c, where) };
  }

  private top(): Frame {
    const frame = this.topFrame();
    if (frame === undefined) throw new Error('goJsonParse: no open container');
    return frame;
  }

  private topFrame(): Frame | undefined {
    return this.stack[this.stack.length - 1];
  }

  private skipSpace(): void {
    for (let c = this.bytes[this.at]; c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = this.bytes[++this.at]);
  }
}

function syntaxError(c: number, where: string): string {
  return `invalid character ${quoteChar(c)} ${where}`;
}

/** A string, number or literal starting at `at`. */
function scanScalar(bytes: Uint8Array, at: number): Step<JsonNode> {
  const c = bytes[at] ?? 0;
  if (c === 0x22) {
    const s = scanString(bytes, at);
    return 'value' in s ? { value: { kind: 'string', ...s.value }, next: s.next } : s;
  }
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return scanNumber(bytes, at);
  for (const [word, node] of LITERALS) {
    if (c !== word.charCodeAt(0)) continue;
    for (let i = 1; i < word.length; i++) {
      const got = bytes[at + i];
      const expecting = `in literal ${word} (expecting ${quoteChar(word.charCodeAt(i))})`;
      if (got === undefined) return { eof: syntaxError(0x20, expecting) };
      if (got !== word.charCodeAt(i)) return { error: syntaxError(got, expecting) };
    }
    return { value: node, next: at + word.length };
  }
  return { error: syntaxError(c, 'looking for beginning of value') };
}

const LITERALS: readonly (readonly [string, JsonNode])[] = [
  ['true', { kind: 'bool', value: true }], ['false', { kind: 'bool', value: false }], ['null', { kind: 'null' }],
];

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/** A number as JSON writes it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
function scanNumber(bytes: Uint8Array, start: number): Step<JsonNode> {
  let at = start;
  const need = (where: string): Step<JsonNode> | null => {
    const c = bytes[at];
    if (c === undefined) return { eof: syntaxError(0x20, where) };
    return isDigit(c) ? null : { error: syntaxError(c, where) };
  };
  if (bytes[at] === 0x2d) {
    at++;
    const missing = need('in numeric literal');
    if (missing !== null) return missing;
  }
  if (bytes[at] === 0x30) at++;
  else while (isDigit(bytes[at])) at++;
  if (bytes[at] === 0x2e) {
    at++;
    const missing = need('after decimal point in numeric literal');
    if (missing !== null) return missing;
    while (isDigit(bytes[at])) at++;
  }
  if (bytes[at] === 0x65 || bytes[at] === 0x45) {
    at++;
    if (bytes[at] === 0x2b || bytes[at] === 0x2d) at++;
    const missing = need('in exponent of numeric literal');
    if (missing !== null) return missing;
    while (isDigit(bytes[at])) at++;
  }
  return { value: { kind: 'number', text: Buffer.from(bytes.subarray(start, at)).toString('latin1') }, next: at };
}

const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

/** A string literal from its opening quote: its bytes as written and as Go unescapes them. */
function scanString(bytes: Uint8Array, start: number): Step<{ readonly raw: Uint8Array; readonly value: Uint8Array }> {
  let at = start + 1;
  for (;;) {
    const c = bytes[at];
    if (c === undefined) return { eof: null };
    if (c === 0x22) break;
    if (c < 0x20) return { error: syntaxError(c, 'in string literal') };
    if (c !== 0x5c) {
      at++;
      continue;
    }
    const e = bytes[at + 1];
    if (e === undefined) return { eof: syntaxError(0x20, 'in string escape code') };
    if (SIMPLE_ESCAPES.has(e)) {
      at += 2;
      continue;
    }
    if (e !== 0x75) return { error: syntaxError(e, 'in string escape code') };
    for (let i = 2; i < 6; i++) {
      const h = bytes[at + i];
      if (h === undefined) return { eof: syntaxError(0x20, 'in \\u hexadecimal character escape') };
      if (!isHex(h)) return { error: syntaxError(h, 'in \\u hexadecimal character escape') };
    }
    at += 6;
  }
  const raw = bytes.subarray(start + 1, at);
  return { value: { raw, value: unescape(raw) }, next: at + 1 };
}

const REPLACEMENT = [0xef, 0xbf, 0xbd];
const ESCAPED: Readonly<Record<number, number>> = { 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };

/** The bytes of a scanned (so well-formed) string literal's body, as Go's unquote makes them. */
function unescape(raw: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < raw.length;) {
    const c = raw[i] ?? 0;
    if (c === 0x5c) {
      const e = raw[i + 1] ?? 0;
      if (e !== 0x75) {
        out.push(ESCAPED[e] ?? e);
        i += 2;
        continue;
      }
      let rune = hex4(raw, i + 2);
      i += 6;
      if (rune >= 0xd800 && rune <= 0xdfff) {
        const low = raw[i] === 0x5c && raw[i + 1] === 0x75 ? hex4(raw, i + 2) : -1;
        if (rune < 0xdc00 && low >= 0xdc00 && low <= 0xdfff) {
          rune = 0x10000 + ((rune - 0xd800) << 10) + (low - 0xdc00);
          i += 6;
        } else {
          rune = 0xfffd;
        }
      }
      out.push(...Buffer.from(String.fromCodePoint(rune), 'utf8'));
      continue;
    }
    if (c < 0x80) {
      out.push(c);
      i++;
      continue;
    }
    const n = runeLength(raw, i);
    if (n === 0) {
      out.push(...REPLACEMENT);
      i++;
    } else {
      for (let k = 0; k < n; k++) out.push(raw[i + k] ?? 0);
      i += n;
    }
  }
  return Uint8Array.from(out);
}

function hex4(raw: Uint8Array, at: number): number {
  return Number.parseInt(Buffer.from(raw.subarray(at, at + 4)).toString('latin1'), 16);
}

/** The length of the valid UTF-8 sequence at `at` (Go's rules: no overlongs, no surrogates, at most U+10FFFF); 0 if invalid. */
export function runeLength(bytes: Uint8Array, at: number): number {
  const b0 = bytes[at] ?? 0;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const b = bytes[at + k];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 < 0x80) return 1;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** Bytes that Go's decoding already made valid UTF-8, as text. */
export function utf8Text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Go's quoteChar: a byte as the scanner names it, 'x'. The byte is taken as the rune
 * of that number (so 0xe9 reads 'é'), escaped as strconv.Quote escapes it.
 */
export function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  return `'${quoteRune(c)}'`;
}

const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x07: '\\a', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x0b: '\\v', 0x5c: '\\\\',
};

/** One rune as strconv.Quote writes it inside its quotes (below U+0100 only matters here, plus any printable rune). */
function quoteRune(rune: number): string {
  const short = SHORT_ESCAPES[rune];
  if (short !== undefined) return short;
  if (rune < 0x20 || rune === 0x7f) return `\\x${rune.toString(16).padStart(2, '0')}`;
  if (rune < 0x7f) return String.fromCharCode(rune);
  if (!isPrintable(rune)) return rune < 0x10000 ? `\\u${rune.toString(16).padStart(4, '0')}` : `\\U${rune.toString(16).padStart(8, '0')}`;
  return String.fromCodePoint(rune);
}

/** Go's strconv.IsPrint, approximated by Unicode categories: letters, marks, numbers, punctuation, symbols, ASCII space. */
function isPrintable(rune: number): boolean {
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(String.fromCodePoint(rune));
}

/** Go's %q of a byte string (strconv.Quote): invalid UTF-8 bytes as \xNN, '"' and '\' escaped. */
export function goQuote(bytes: Uint8Array): string {
  let out = '"';
  for (let i = 0; i < bytes.length;) {
    const c = bytes[i] ?? 0;
    const n = runeLength(bytes, i);
    if (n === 0) {
      out += `\\x${c.toString(16).padStart(2, '0')}`;
      i++;
      continue;
    }
    const rune = Buffer.from(bytes.subarray(i, i + n)).toString('utf8').codePointAt(0) ?? 0;
    out += rune === 0x22 ? '\\"' : quoteRune(rune);
    i += n;
  }
  return `${out}"`;
}
