// The WAL reader on crafted bytes, laid out by the facts of etcd 3.4's wal/encoder.go
// (an int64 LE length word with padding bits, walpb.Record, CRC-32C rolling over the
// records' data, a crc record opening each segment): what it reads, what it cuts as a
// torn tail, and what it refuses.
import test from 'ava';
import { Crc32c } from '../../../net/snapshot/crc32c.js';
import {
  CRC_TYPE, ENTRY_TYPE, METADATA_TYPE, readWal, segmentsFrom, SNAPSHOT_TYPE, STATE_TYPE, WalError, type WalSegment,
} from '../../../net/etcdData/walReader.js';

function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const vField = (field: number, value: bigint | number): number[] => [...varint(BigInt(field << 3)), ...varint(BigInt(value))];
const bField = (field: number, bytes: Uint8Array): number[] => [...varint(BigInt((field << 3) | 2)), ...varint(BigInt(bytes.length)), ...bytes];

const metadata = (node: bigint, cluster: bigint): Uint8Array => Uint8Array.from([...vField(1, node), ...vField(2, cluster)]);
const entry = (term: number, index: number, data: string): Uint8Array =>
  Uint8Array.from([...vField(1, 0), ...vField(2, term), ...vField(3, index), ...bField(4, Buffer.from(data))]);
const state = (term: number, vote: bigint, commit: number): Uint8Array => Uint8Array.from([...vField(1, term), ...vField(2, vote), ...vField(3, commit)]);
const snapshot = (index: number, term: number): Uint8Array => Uint8Array.from([...vField(1, index), ...vField(2, term)]);

/** An encoder as etcd's: records framed and padded, the CRC rolling on. */
class Writer {
  private crc = 0;
  private readonly chunks: Buffer[] = [];

  constructor(previousCrc = 0) {
    this.crc = previousCrc;
    this.frame(CRC_TYPE, new Uint8Array(0), previousCrc);
  }

  record(type: number, data: Uint8Array): this {
    this.crc = new Crc32c(this.crc).update(data).value();
    this.frame(type, data, this.crc);
    return this;
  }

  get runningCrc(): number {
    return this.crc;
  }

  bytes(preallocated = 0): Buffer {
    return Buffer.concat([...this.chunks, Buffer.alloc(preallocated)]);
  }

  private frame(type: number, data: Uint8Array, crc: number): void {
    const record = Buffer.from([...vField(1, type), ...vField(2, crc), ...(type === CRC_TYPE ? [] : bField(3, data))]);
    const pad = (8 - (record.length % 8)) % 8;
    const word = Buffer.alloc(8);
    word.writeBigUInt64LE(BigInt(record.length) | (pad === 0 ? 0n : BigInt(0x80 | pad) << 56n));
    this.chunks.push(word, record, Buffer.alloc(pad));
  }
}

const NODE = 0x8e9e05c52164694dn; // all 64 bits matter
const CLUSTER = 0xcdf818194e3a8c32n;

function basicLog(): Writer {
  return new Writer()
    .record(METADATA_TYPE, metadata(NODE, CLUSTER))
    .record(SNAPSHOT_TYPE, snapshot(0, 0))
    .record(ENTRY_TYPE, entry(1, 1, 'a'))
    .record(ENTRY_TYPE, entry(1, 2, 'b'))
    .record(STATE_TYPE, state(1, NODE, 2))
    .record(ENTRY_TYPE, entry(1, 3, 'c'));
}

const seg = (name: string, bytes: Uint8Array): WalSegment => ({ name, bytes });
const data = (e: { data: Uint8Array }): string => Buffer.from(e.data).toString();

test('reads metadata, the hard state and the entries, ids with all 64 bits', (t) => {
  const wal = readWal([seg('0000000000000000-0000000000000000.wal', basicLog().bytes(4096))], { index: 0, term: 0 });
  t.is(wal.nodeId, NODE);
  t.is(wal.clusterId, CLUSTER);
  t.deepEqual(wal.hardState, { term: 1, vote: NODE, commit: 2 });
  t.deepEqual(wal.entries.map((e) => [e.index, e.term, e.type, data(e)]), [[1, 1, 'normal', 'a'], [2, 1, 'normal', 'b'], [3, 1, 'normal', 'c']]);
  t.is(wal.tornBytes, 0);
});

test('a later entry at an index replaces it and drops the ones after (a new leader overwrote them)', (t) => {
  const w = basicLog().record(ENTRY_TYPE, entry(2, 2, 'B'));
  const wal = readWal([seg('0000000000000000-0000000000000000.wal', w.bytes())], { index: 0, term: 0 });
  t.deepEqual(wal.entries.map((e) => [e.index, e.term, data(e)]), [[1, 1, 'a'], [2, 2, 'B']]);
});

test('entries at or below the start snapshot are skipped; the snapshot must be recorded', (t) => {
  const w = basicLog().record(SNAPSHOT_TYPE, snapshot(2, 1));
  const wal = readWal([seg('0000000000000000-0000000000000000.wal', w.bytes())], { index: 2, term: 1 });
  t.deepEqual(wal.entries.map((e) => e.index), [3]);
  t.throws(() => readWal([seg('0000000000000000-0000000000000000.wal', w.bytes())], { index: 2, term: 9 }), { instanceOf: WalError, message: /term/ });
  t.throws(() => readWal([seg('0000000000000000-0000000000000000.wal', basicLog().bytes())], { index: 2, term: 1 }),
    { instanceOf: WalError, message: /does not record the snapshot/ });
});

test('the CRC rolls across segments, each opened by a crc record', (t) => {
  const first = basicLog();
  const second = new Writer(first.runningCrc).record(ENTRY_TYPE, entry(1, 4, 'd')).record(STATE_TYPE, state(1, NODE, 4));
  const segments = [seg('0000000000000000-0000000000000000.wal', first.bytes(64)), seg('0000000000000001-0000000000000004.wal', second.bytes(64))];
  const wal = readWal(segments, { index: 0, term: 0 });
  t.deepEqual(wal.entries.map((e) => e.index), [1, 2, 3, 4]);
  t.is(wal.hardState.commit, 4);
  // A second segment whose crc record does not continue the first's: not the same log.
  const stranger = new Writer(12345).record(ENTRY_TYPE, entry(1, 4, 'd'));
  t.throws(() => readWal([segments[0] ?? seg('', new Uint8Array(0)), seg('0000000000000001-0000000000000004.wal', stranger.bytes())], { index: 0, term: 0 }),
    { instanceOf: WalError, message: /CRC mismatch/ });
});

test('a last record cut short is a torn tail: cut, as etcd repairs it', (t) => {
  const whole = basicLog().bytes();
  const cut = whole.subarray(0, whole.length - 5);
  const wal = readWal([seg('0000000000000000-0000000000000000.wal', cut)], { index: 0, term: 0 });
  t.deepEqual(wal.entries.map((e) => e.index), [1, 2]);
  t.true(wal.tornBytes > 0);
});

test('a last record with a zeroed sector (a write the disk never finished) is a torn tail', (t) => {
  const w = basicLog();
  const before = w.bytes().length;
  w.record(ENTRY_TYPE, entry(1, 4, 'x'.repeat(2000)));
  const bytes = Buffer.from(w.bytes(1024));
  // Zero a whole 512-byte sector inside the last record's data.
  const sector = Math.ceil((before + 600) / 512) * 512;
  bytes.fill(0, sector, sector + 512);
  const wal = readWal([seg('0000000000000000-0000000000000000.wal', bytes)], { index: 0, term: 0 });
  t.deepEqual(wal.entries.map((e) => e.index), [1, 2, 3]);
  t.true(wal.tornBytes > 0);
});

test('a bad CRC before the tail is damage: a WalError naming the place, never a shorter log', (t) => {
  const bytes = Buffer.from(basicLog().bytes(4096));
  // Flip a byte of entry 1's data ('a'), which is followed by intact records.
  const at = bytes.indexOf(Buffer.from('a'), 16);
  bytes[at] = 0x7a;
  t.throws(() => readWal([seg('0000000000000000-0000000000000000.wal', bytes)], { index: 0, term: 0 }), { instanceOf: WalError, message: /CRC mismatch.*damaged/ });
});

test('a segment cut short before the last one is damage', (t) => {
  const first = basicLog().bytes();
  const second = new Writer(basicLog().runningCrc).record(ENTRY_TYPE, entry(1, 4, 'd')).bytes();
  t.throws(() => readWal([seg('0000000000000000-0000000000000000.wal', first.subarray(0, first.length - 3)), seg('0000000000000001-0000000000000004.wal', second)],
    { index: 0, term: 0 }), { instanceOf: WalError, message: /not the last/ });
});

test('an unknown record type, a gap in the entries, no metadata: refused', (t) => {
  const unknown = basicLog().record(9, Uint8Array.of(1)).bytes();
  t.throws(() => readWal([seg('0000000000000000-0000000000000000.wal', unknown)], { index: 0, term: 0 }), { instanceOf: WalError, message: /unexpected record type 9/ });
  const gap = basicLog().record(ENTRY_TYPE, entry(1, 7, 'g')).bytes();
  t.throws(() => readWal([seg('0000000000000000-0000000000000000.wal', gap)], { index: 0, term: 0 }), { instanceOf: WalError, message: /gap/ });
  const bare = new Writer().record(SNAPSHOT_TYPE, snapshot(0, 0)).bytes();
  t.throws(() => readWal([seg('0000000000000000-0000000000000000.wal', bare)], { index: 0, term: 0 }), { instanceOf: WalError, message: /metadata/ });
  t.throws(() => readWal([], { index: 0, term: 0 }), { instanceOf: WalError });
});

test('segments: from the last one starting at or before the snapshot, sequences consecutive', (t) => {
  const names = ['0000000000000002-00000000000000be.wal', '0000000000000000-0000000000000000.wal', '0000000000000001-0000000000000050.wal'];
  // Names are hex: 0x50 = 80 ≤ 100 < 0xbe = 190.
  t.deepEqual(segmentsFrom(names, 100), ['0000000000000001-0000000000000050.wal', '0000000000000002-00000000000000be.wal']);
  t.deepEqual(segmentsFrom(names, 0), names.slice().sort());
  t.throws(() => segmentsFrom(['0000000000000000-0000000000000000.wal', '0000000000000002-0000000000000010.wal'], 0), { instanceOf: WalError, message: /consecutive/ });
  t.throws(() => segmentsFrom(['0000000000000003-0000000000000100.wal'], 50), { instanceOf: WalError });
  t.throws(() => segmentsFrom(['junk.wal'], 0), { instanceOf: WalError });
});
