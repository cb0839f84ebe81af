// Porcupine's Jepsen etcd logs: `INFO  jepsen.util - <process> <type> <f> <value>`
// (tab- or space-separated). Semantics as Porcupine reads them:
// - `:fail :cas` is an ok cas whose compare failed (result false);
// - `:fail :read` (a timed-out read) tells nothing and is dropped;
// - `:info` and never-completed writes / cas are unknown: they may take effect
//   at any point after their call, or never.

import type { Operation } from '../history.js';
import { HistoryFormatError } from '../history.js';
import type { RegisterInput, RegisterOutput } from '../models/etcd-register.js';
import type { JepsenEvent } from './pair-events.js';
import { isEventType, pairEvents } from './pair-events.js';

const LINE = /^INFO\s+jepsen\.util\s+-\s+(\S+)\s+:(\S+)\s+:(\S+)\s*(.*)$/;

export function parsePorcupineRegister(text: string): Operation<RegisterInput, RegisterOutput>[] {
  const events: JepsenEvent[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    const m = LINE.exec(raw);
    if (m === null) throw new HistoryFormatError(line, 'expected `INFO  jepsen.util - <process> :<type> :<f> <value>`');
    const [, processText = '', type = '', f = '', valueText = ''] = m;
    const process = Number(processText);
    if (!Number.isSafeInteger(process) || process < 0) throw new HistoryFormatError(line, `bad process ${JSON.stringify(processText)}`);
    if (!isEventType(type)) throw new HistoryFormatError(line, `bad event type :${type}`);
    if (f !== 'read' && f !== 'write' && f !== 'cas') throw new HistoryFormatError(line, `unknown operation :${f}`);
    events.push({ line, process, type, f, value: parseValue(valueText.trim(), line) });
  });

  const ops: Operation<RegisterInput, RegisterOutput>[] = [];
  for (const op of pairEvents(events)) {
    const base = { id: ops.length, process: op.process, call: op.call, line: op.line };
    const unknownOutcome = op.completion === 'info' || op.completion === 'open';
    switch (op.f) {
      case 'read': {
        if (op.completion !== 'ok') break; // a read that tells nothing constrains nothing
        const value = op.completeValue;
        if (value !== null && typeof value !== 'number') throw new HistoryFormatError(op.completionLine, 'a read returns an integer or nil');
        ops.push({ ...base, ret: op.ret, input: { f: 'read' }, output: { f: 'read', value }, outcome: 'ok' });
        break;
      }
      case 'write': {
        const value = op.invokeValue;
        if (typeof value !== 'number') throw new HistoryFormatError(op.line, 'a write takes an integer');
        if (op.completion === 'fail') break; // definitely did not happen
        ops.push(
          unknownOutcome
            ? { ...base, ret: Infinity, input: { f: 'write', value }, output: undefined, outcome: 'unknown' }
            : { ...base, ret: op.ret, input: { f: 'write', value }, output: { f: 'write' }, outcome: 'ok' },
        );
        break;
      }
      case 'cas': {
        const pair = op.invokeValue;
        if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'number' || typeof pair[1] !== 'number') {
          throw new HistoryFormatError(op.line, 'a cas takes [from to] integers');
        }
        const input: RegisterInput = { f: 'cas', from: pair[0], to: pair[1] };
        ops.push(
          unknownOutcome
            ? { ...base, ret: Infinity, input, output: undefined, outcome: 'unknown' }
            : { ...base, ret: op.ret, input, output: { f: 'cas', succeeded: op.completion === 'ok' }, outcome: 'ok' },
        );
        break;
      }
      default:
        throw new HistoryFormatError(op.line, `unknown operation :${op.f}`);
    }
  }
  return ops;
}

/** nil, an integer, `[a b]`, or a keyword such as `:timed-out` (kept as a string). */
function parseValue(text: string, line: number): unknown {
  if (text === '' || text === 'nil') return null;
  if (/^-?\d+$/.test(text)) return Number(text);
  if (text.startsWith(':')) return text.slice(1);
  const vector = /^\[\s*(-?\d+)\s+(-?\d+)\s*\]$/.exec(text);
  if (vector !== null) return [Number(vector[1]), Number(vector[2])];
  throw new HistoryFormatError(line, `cannot read value ${JSON.stringify(text)}`);
}
