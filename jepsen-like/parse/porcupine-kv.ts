// Porcupine's kv logs: one EDN map a line,
// `{:process p, :type :invoke|:ok, :f :get|:put|:append, :key "k", :value "v"|nil}`.

import type { Operation } from '../history.js';
import { HistoryFormatError } from '../history.js';
import type { KvInput, KvOutput } from '../models/kv-append.js';
import { readJepsenEdn } from './jepsen-edn.js';

export function parsePorcupineKv(text: string): Operation<KvInput, KvOutput>[] {
  const out: Operation<KvInput, KvOutput>[] = [];
  for (const op of readJepsenEdn(text)) {
    if (op.completion === 'fail') continue;
    const key = op.invoke['key'];
    if (typeof key !== 'string') throw new HistoryFormatError(op.line, 'missing or bad :key');
    if (op.f !== 'get' && op.f !== 'put' && op.f !== 'append') throw new HistoryFormatError(op.line, `unknown operation :${op.f}`);
    const written = op.f === 'get' ? '' : op.invokeValue;
    if (typeof written !== 'string') throw new HistoryFormatError(op.line, `:${op.f} takes a string value`);
    const input: KvInput = { f: op.f, key, value: written };
    if (op.completion === 'ok') {
      const read = op.f === 'get' ? op.completeValue : '';
      if (typeof read !== 'string') throw new HistoryFormatError(op.completionLine, 'a get returns a string');
      out.push({ id: out.length, process: op.process, call: op.call, ret: op.ret, input, output: { value: read }, outcome: 'ok', line: op.line });
    } else {
      out.push({ id: out.length, process: op.process, call: op.call, ret: Infinity, input, output: undefined, outcome: 'unknown', line: op.line });
    }
  }
  return out;
}
