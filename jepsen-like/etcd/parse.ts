// Tern's etcd history: JSON lines, one operation per line (docs/history-format.md):
// {"process": p, "call": t0, "return": t1 | null, "outcome": "ok"|"fail"|"unknown",
//  "request": {...}, "response": {...}}

import type { Operation } from '../history.js';
import { HistoryFormatError } from '../history.js';
import type { Compare, EtcdRequest, EtcdResponse, RequestOp } from './types.js';

type Obj = Readonly<Record<string, unknown>>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function parseEtcdHistory(text: string): Operation<EtcdRequest, EtcdResponse>[] {
  const ops: Operation<EtcdRequest, EtcdResponse>[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index] ?? '';
    const line = index + 1;
    if (raw.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (error: unknown) {
      throw new HistoryFormatError(line, `invalid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!isObj(record)) throw new HistoryFormatError(line, 'expected a JSON object');
    const { process, call, outcome } = record;
    const ret = record['return'];
    if (typeof process !== 'number' && typeof process !== 'string') throw new HistoryFormatError(line, 'missing or bad "process"');
    if (typeof call !== 'number' || !Number.isFinite(call)) throw new HistoryFormatError(line, 'missing or bad "call"');
    if (outcome !== 'ok' && outcome !== 'fail' && outcome !== 'unknown') {
      throw new HistoryFormatError(line, '"outcome" must be "ok", "fail" or "unknown"');
    }
    const request = parseRequest(record['request'], line);
    if (outcome === 'fail') continue; // provably did not happen
    if (outcome === 'unknown') {
      ops.push({ id: ops.length, process, call, ret: Infinity, input: request, output: undefined, outcome: 'unknown', line });
      continue;
    }
    if (typeof ret !== 'number' || !Number.isFinite(ret) || ret < call) {
      throw new HistoryFormatError(line, 'an ok operation needs a finite "return" >= "call"');
    }
    const response = record['response'];
    if (!isObj(response)) throw new HistoryFormatError(line, 'an ok operation needs a "response" object');
    ops.push({ id: ops.length, process, call, ret, input: request, output: response as EtcdResponse, outcome: 'ok', line });
  }
  checkProcesses(ops);
  return ops;
}

/** A process does one thing at a time, and a process with an unknown outcome is retired. */
function checkProcesses(ops: readonly Operation<EtcdRequest, EtcdResponse>[]): void {
  const byProcess = new Map<number | string, Operation<EtcdRequest, EtcdResponse>[]>();
  for (const op of ops) {
    const list = byProcess.get(op.process);
    if (list === undefined) byProcess.set(op.process, [op]);
    else list.push(op);
  }
  for (const list of byProcess.values()) {
    list.sort((a, b) => a.call - b.call);
    for (let i = 1; i < list.length; i++) {
      const before = list[i - 1];
      const op = list[i];
      if (before === undefined || op === undefined) continue;
      // A process is sequential: its next call comes at or after its previous return
      // (at the same instant is fine: clocks have a resolution). An unknown outcome
      // retires the process for good.
      if (before.outcome === 'unknown') {
        throw new HistoryFormatError(op.line, `process ${String(op.process)} was retired by its unknown outcome on line ${before.line}`);
      }
      if (before.ret > op.call) {
        throw new HistoryFormatError(op.line, `process ${String(op.process)} is still busy with the op on line ${before.line}`);
      }
    }
  }
}

function str(x: unknown, what: string, line: number): string {
  if (typeof x !== 'string') throw new HistoryFormatError(line, `${what} must be a string`);
  return x;
}

function optNum(x: unknown, what: string, line: number): number | undefined {
  if (x === undefined) return undefined;
  if (typeof x !== 'number' || !Number.isSafeInteger(x)) throw new HistoryFormatError(line, `${what} must be an integer`);
  return x;
}

function optStr(x: unknown, what: string, line: number): string | undefined {
  return x === undefined ? undefined : str(x, what, line);
}

function requestOp(x: unknown, line: number): RequestOp {
  const request = parseRequest(x, line);
  if (request.type !== 'range' && request.type !== 'put' && request.type !== 'delete') {
    throw new HistoryFormatError(line, `a txn branch holds range, put or delete, not ${request.type}`);
  }
  return request;
}

function compare(x: unknown, line: number): Compare {
  if (!isObj(x)) throw new HistoryFormatError(line, 'a compare must be an object');
  const { key, target, result, value } = x;
  if (target !== 'version' && target !== 'create' && target !== 'mod' && target !== 'value' && target !== 'lease') {
    throw new HistoryFormatError(line, 'compare "target" must be version, create, mod, value or lease');
  }
  if (result !== '=' && result !== '!=' && result !== '<' && result !== '>') throw new HistoryFormatError(line, 'compare "result" must be =, !=, < or >');
  if (typeof value !== 'number' && typeof value !== 'string') throw new HistoryFormatError(line, 'compare "value" must be a number or string');
  return { key: str(key, 'compare "key"', line), target, result, value };
}

function parseRequest(x: unknown, line: number): EtcdRequest {
  if (!isObj(x)) throw new HistoryFormatError(line, 'missing "request" object');
  const optional = <K extends string, V>(name: K, v: V | undefined): { [P in K]?: V } =>
    (v === undefined ? {} : { [name]: v }) as { [P in K]?: V };
  switch (x['type']) {
    case 'range':
      return {
        type: 'range',
        key: str(x['key'], '"key"', line),
        ...optional('rangeEnd', optStr(x['rangeEnd'], '"rangeEnd"', line)),
        ...optional('revision', optNum(x['revision'], '"revision"', line)),
        ...optional('limit', optNum(x['limit'], '"limit"', line)),
        ...optional('keysOnly', x['keysOnly'] === true ? true : undefined),
        ...optional('countOnly', x['countOnly'] === true ? true : undefined),
      };
    case 'put':
      return {
        type: 'put',
        key: str(x['key'], '"key"', line),
        value: str(x['value'], '"value"', line),
        ...optional('lease', optNum(x['lease'], '"lease"', line)),
        ...optional('prevKv', x['prevKv'] === true ? true : undefined),
      };
    case 'delete':
      return {
        type: 'delete',
        key: str(x['key'], '"key"', line),
        ...optional('rangeEnd', optStr(x['rangeEnd'], '"rangeEnd"', line)),
        ...optional('prevKv', x['prevKv'] === true ? true : undefined),
      };
    case 'txn': {
      const list = (v: unknown, what: string): unknown[] => {
        if (v === undefined) return [];
        if (!Array.isArray(v)) throw new HistoryFormatError(line, `"${what}" must be an array`);
        return v as unknown[];
      };
      return {
        type: 'txn',
        compare: list(x['compare'], 'compare').map((c) => compare(c, line)),
        success: list(x['success'], 'success').map((o) => requestOp(o, line)),
        failure: list(x['failure'], 'failure').map((o) => requestOp(o, line)),
      };
    }
    case 'compact':
      return { type: 'compact', revision: optNum(x['revision'], '"revision"', line) ?? 0 };
    case 'leaseGrant':
    case 'leaseRevoke': {
      const id = optNum(x['id'], '"id"', line);
      if (id === undefined || id === 0) throw new HistoryFormatError(line, 'a lease needs a non-zero integer "id"');
      return { type: x['type'], id };
    }
    default:
      throw new HistoryFormatError(line, `unknown request type ${JSON.stringify(x['type'])}`);
  }
}
