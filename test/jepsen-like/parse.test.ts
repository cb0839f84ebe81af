// Malformed input is reported as a HistoryFormatError naming the line.
import test from 'ava';
import { HistoryFormatError } from '../../jepsen-like/history.js';
import { readEdnMaps } from '../../jepsen-like/parse/edn-maps.js';
import { parseKnossosCasRegister, parseKnossosMutex } from '../../jepsen-like/parse/knossos.js';
import { parsePorcupineKv } from '../../jepsen-like/parse/porcupine-kv.js';
import { parsePorcupineRegister } from '../../jepsen-like/parse/porcupine-register.js';

function lineOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (error: unknown) {
    if (error instanceof HistoryFormatError) return error.line;
    throw error;
  }
  return undefined;
}

test('EDN: vectors, lists, bare map sequences, comments, strings with brackets', (t) => {
  const text = '; a comment [\n({:process 0, :type :invoke, :f :read, :value nil}\n {:process :nemesis :type :info :f :start :value "a \\"}[#{"}\n {:process 0 :type :ok :f :read :value 1 })';
  const maps = readEdnMaps(text);
  t.deepEqual(maps.map((m) => m.line), [2, 3, 4]);
  t.is(maps[1]?.value['value'], 'a "}[#{');
  t.is(readEdnMaps('{:a 1}\n{:a 2}\n').length, 2);
});

test('EDN: unbalanced and stray input names its line', (t) => {
  t.is(lineOf(() => readEdnMaps('[{:a 1}\n {:a 2]')), 2);
  t.is(lineOf(() => readEdnMaps('[{:a 1}\n {:a 2}')), 1);
  t.is(lineOf(() => readEdnMaps('[{:a 1}]\n{:a 2}')), 2);
  t.is(lineOf(() => readEdnMaps('[{:a 1}\n 42]')), 2);
  t.is(lineOf(() => readEdnMaps('[{:a "open}]')), 1);
  t.is(lineOf(() => readEdnMaps('42')), 1);
  t.is(lineOf(() => readEdnMaps('[{:a 1}\n [1 2]]')), 2);
});

test('pairing: a second invoke while pending, a retired process, an orphan completion', (t) => {
  const invoke = (p: number): string => `{:process ${p} :type :invoke :f :write :value 1}`;
  t.is(lineOf(() => parseKnossosCasRegister(`[${invoke(0)}\n${invoke(0)}]`)), 2);
  t.is(lineOf(() => parseKnossosCasRegister(`[${invoke(0)}\n{:process 0 :type :info :f :write}\n${invoke(0)}]`)), 3);
  t.is(lineOf(() => parseKnossosCasRegister('[{:process 0 :type :ok :f :write :value 1}]')), 1);
  t.is(lineOf(() => parseKnossosCasRegister(`[${invoke(0)}\n{:process 0 :type :ok :f :read :value 1}]`)), 2);
  t.is(lineOf(() => parseKnossosMutex('[{:process 0 :type :invoke :f :lock}]')), 1);
  t.is(lineOf(() => parseKnossosCasRegister('[{:type :invoke :f :read}]')), 1);
});

test('Knossos semantics: fail dropped, info unknown, nemesis ignored, nil read unconstrained', (t) => {
  const ops = parseKnossosCasRegister(
    '[{:process 0 :type :invoke :f :cas :value [0 1]}\n{:process 0 :type :fail :f :cas :value [0 1]}\n' +
      '{:process :nemesis :type :info :f :start}\n{:process 1 :type :invoke :f :write :value 2}\n' +
      '{:process 1 :type :info :f :write :value 2}\n{:process 2 :type :invoke :f :read :value nil}\n' +
      '{:process 2 :type :ok :f :read :value nil}]',
  );
  t.deepEqual(
    ops.map((op) => [op.input.f, op.outcome, op.ret]),
    [
      ['write', 'unknown', Infinity],
      ['read', 'ok', 6],
    ],
  );
});

test('Porcupine logs: bad lines and values name their line', (t) => {
  const line = (p: number, type: string, f: string, v: string): string => `INFO  jepsen.util - ${p}\t:${type}\t:${f}\t${v}`;
  t.is(lineOf(() => parsePorcupineRegister(`${line(0, 'invoke', 'read', 'nil')}\nWARN something else`)), 2);
  t.is(lineOf(() => parsePorcupineRegister(line(0, 'invoke', 'frob', 'nil'))), 1);
  t.is(lineOf(() => parsePorcupineRegister(line(0, 'begin', 'read', 'nil'))), 1);
  t.is(lineOf(() => parsePorcupineRegister(line(0, 'invoke', 'write', '{1}'))), 1);
  t.is(lineOf(() => parsePorcupineRegister(line(-1, 'invoke', 'read', 'nil'))), 1);
  t.is(lineOf(() => parsePorcupineRegister(`${line(0, 'invoke', 'cas', '1')}\n${line(0, 'ok', 'cas', '1')}`)), 1);
  const ops = parsePorcupineRegister(
    [line(0, 'invoke', 'cas', '[1 2]'), line(0, 'fail', 'cas', '[1 2]'), line(1, 'invoke', 'read', 'nil'), line(1, 'fail', 'read', ':timed-out'), line(2, 'invoke', 'write', '3'), line(2, 'info', 'write', ':timed-out')].join('\n'),
  );
  t.deepEqual(
    ops.map((op) => [op.input.f, op.outcome]),
    [
      ['cas', 'ok'],
      ['write', 'unknown'],
    ],
  );
  t.deepEqual(ops[0]?.output, { f: 'cas', succeeded: false });
});

test('Porcupine kv: missing key and non-string values name their line', (t) => {
  t.is(lineOf(() => parsePorcupineKv('{:process 0, :type :invoke, :f :get, :value nil}')), 1);
  t.is(lineOf(() => parsePorcupineKv('{:process 0, :type :invoke, :f :put, :key "1", :value 5}')), 1);
  t.is(lineOf(() => parsePorcupineKv('{:process 0, :type :invoke, :f :get, :key "1", :value nil}\n{:process 0, :type :ok, :f :get, :key "1", :value 7}')), 2);
});
