// Reads a Jepsen/Knossos history in EDN: either one collection `[...]` / `(...)`
// of op maps, or a bare sequence of maps (one per line, like Porcupine's kv logs).
//
// edn-data parses each map, but it is lenient about unbalanced input and does
// not report positions. So a small scanner first cuts the text into top-level
// maps, tracking lines, strings, comments and char literals; each map is then
// handed to edn-data, and every error names the line where its map starts.

import { parseEDNString } from 'edn-data';
import { HistoryFormatError } from '../history.js';

export interface EdnMap {
  /** 1-based line where the map starts. */
  readonly line: number;
  readonly value: Readonly<Record<string, unknown>>;
}

const EDN_OPTIONS = { mapAs: 'object', keywordAs: 'string', listAs: 'array', setAs: 'array' } as const;

const OPENERS = new Map([
  ['(', ')'],
  ['[', ']'],
  ['{', '}'],
]);

export function readEdnMaps(text: string): EdnMap[] {
  const maps: EdnMap[] = [];
  const stack: { close: string; line: number }[] = [];
  /** Depth at which maps are elements: 1 inside an outer collection, 0 for a bare sequence. */
  let elementDepth = -1;
  let outerClosed = false;
  let mapStart = -1;
  let mapLine = 0;
  let line = 1;

  const fail = (at: number, reason: string): never => {
    throw new HistoryFormatError(at, reason);
  };

  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === '\n') {
      line++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === ',') continue;
    if (c === ';') {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
      continue;
    }
    if (outerClosed) fail(line, `unexpected ${JSON.stringify(c)} after the end of the history`);
    if (elementDepth === -1) {
      if (c === '[' || c === '(') elementDepth = 1;
      else if (c === '{') elementDepth = 0;
      else fail(line, 'expected a vector, list or map of operations');
    }
    if (c === '"') {
      const startLine = line;
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++;
        else if (text[i] === '\n') line++;
        i++;
      }
      if (i >= text.length) fail(startLine, 'unterminated string');
      continue;
    }
    if (c === '\\') {
      i++; // a char literal such as \( must not count as a bracket
      continue;
    }
    const close = OPENERS.get(c);
    if (close !== undefined) {
      if (stack.length === elementDepth) {
        if (c !== '{') fail(line, 'expected an operation map');
        mapStart = i;
        mapLine = line;
      }
      stack.push({ close, line });
      continue;
    }
    if (c === ')' || c === ']' || c === '}') {
      const open = stack.pop();
      if (open === undefined) fail(line, `unexpected ${JSON.stringify(c)}`);
      else if (open.close !== c) fail(line, `expected ${JSON.stringify(open.close)} to close line ${open.line}, got ${JSON.stringify(c)}`);
      if (stack.length === elementDepth && mapStart >= 0) {
        maps.push({ line: mapLine, value: parseMap(text.slice(mapStart, i + 1), mapLine) });
        mapStart = -1;
      }
      if (stack.length === 0 && elementDepth === 1) outerClosed = true;
      continue;
    }
    if (stack.length === elementDepth) fail(line, `expected an operation map, got ${JSON.stringify(c)}`);
  }
  const open = stack.pop();
  if (open !== undefined) fail(open.line, `${JSON.stringify(open.close)} never closes`);
  return maps;
}

function parseMap(source: string, line: number): Readonly<Record<string, unknown>> {
  let value: unknown;
  try {
    value = parseEDNString(source, EDN_OPTIONS);
  } catch (error: unknown) {
    throw new HistoryFormatError(line, `invalid EDN: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HistoryFormatError(line, 'expected an operation map');
  }
  return value as Record<string, unknown>;
}
