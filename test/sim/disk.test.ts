import test from 'ava';
import type { LogWrite, RecoveredLog, RecoveryFailure, WriteResult } from '../../core/node/ports.js';
import type { Entry, HardState, Snapshot } from '../../core/raft/types.js';
import { CALM_DISK, SimDisk } from '../../sim/disk.js';
import type { DiskFaults } from '../../sim/disk.js';
import { SimRandom } from '../../sim/prng.js';
import { Scheduler } from '../../sim/scheduler.js';

function setup(faults: Partial<DiskFaults> = {}): { scheduler: Scheduler; disk: SimDisk } {
  const scheduler = new Scheduler();
  const disk = new SimDisk({ id: 1, scheduler, random: new SimRandom(5), faults: { ...CALM_DISK, ...faults } });
  return { scheduler, disk };
}

const entry = (index: number, term: number, text = `e${index}`): Entry =>
  ({ index, term, type: 'normal', data: new TextEncoder().encode(text) });
const hard = (term: number, vote: number, commit: number): HardState => ({ term, vote, commit });

function write(disk: SimDisk, request: Partial<LogWrite>, results: WriteResult[]): void {
  disk.write({ hardState: null, entries: [], snapshot: null, mustSync: true, ...request }, (r) => { results.push(r); });
}

function recovered(result: RecoveredLog | RecoveryFailure): RecoveredLog {
  if ('kind' in result) throw new Error(`recovery failed: ${result.kind}: ${result.detail}`);
  return result;
}

test('a synced write is durable from its completion on, not before', (t) => {
  const { scheduler, disk } = setup({ writeLatencyMsMin: 1 });
  const results: WriteResult[] = [];
  write(disk, { hardState: hard(1, 2, 0), entries: [entry(1, 1), entry(2, 1)] }, results);
  t.is(disk.durableLastIndex(), 0);
  scheduler.run(500); // before the 1 ms latency
  t.deepEqual(results, []);
  disk.crash();
  const empty = recovered(disk.recover());
  t.deepEqual(empty.entries, []);
  t.deepEqual(empty.hardState, hard(0, 0, 0));

  write(disk, { hardState: hard(1, 2, 0), entries: [entry(1, 1), entry(2, 1)] }, results);
  scheduler.run(1_000_000);
  t.deepEqual(results, [{ kind: 'ok' }]);
  disk.crash();
  const back = recovered(disk.recover());
  t.deepEqual(back.entries.map((e) => e.index), [1, 2]);
  t.deepEqual(back.hardState, hard(1, 2, 0));
  t.false(back.truncatedTornTail);
});

test('an unsynced write (mustSync false) is lost on a crash until a later sync', (t) => {
  const { scheduler, disk } = setup();
  const results: WriteResult[] = [];
  write(disk, { hardState: hard(1, 0, 0), entries: [entry(1, 1)] }, results);
  scheduler.run(1_000_000);
  write(disk, { hardState: hard(1, 0, 1), mustSync: false }, results);
  scheduler.run(2_000_000);
  t.is(results.length, 2, 'the unsynced write completes (into the page cache)');
  t.is(disk.unsyncedWrites, 1);
  disk.crash(); // unsyncedSurvivalProbability 0: lost
  t.is(recovered(disk.recover()).hardState.commit, 0);

  write(disk, { hardState: hard(1, 0, 1), mustSync: false }, results);
  scheduler.run(3_000_000);
  write(disk, { entries: [entry(2, 1)] }, results); // the fsync flushes the earlier write too
  scheduler.run(4_000_000);
  disk.crash();
  const back = recovered(disk.recover());
  t.is(back.hardState.commit, 1);
  t.deepEqual(back.entries.map((e) => e.index), [1, 2]);
});

test('a crash may keep unsynced writes in order when they reached the platter', (t) => {
  const { scheduler, disk } = setup({ unsyncedSurvivalProbability: 1 });
  const results: WriteResult[] = [];
  write(disk, { hardState: hard(2, 0, 0), entries: [entry(1, 2)] }, results);
  disk.crash(); // before completion, but the write made it
  t.deepEqual(results, [], 'no completion after power loss');
  scheduler.run(1_000_000);
  t.deepEqual(results, []);
  t.deepEqual(recovered(disk.recover()).entries.map((e) => e.index), [1]);
});

test('a failpoint crash after the save keeps every write in flight, whatever the survival odds', (t) => {
  const { scheduler, disk } = setup({ unsyncedSurvivalProbability: 0, tornWriteProbability: 1 });
  const results: WriteResult[] = [];
  write(disk, { hardState: hard(3, 1, 0), entries: [entry(1, 3)] }, results);
  write(disk, { entries: [entry(2, 3)], mustSync: false }, results);
  disk.crash(true);
  scheduler.run(1_000_000);
  t.deepEqual(results, [], 'no completion after power loss');
  const log = recovered(disk.recover());
  t.deepEqual(log.entries.map((e) => e.index), [1, 2]);
  t.deepEqual(log.hardState, hard(3, 1, 0));
  t.is(disk.stats.tornWrites, 0);
  // An ordinary crash with the same odds loses the write in flight.
  write(disk, { entries: [entry(3, 3)] }, results);
  disk.crash();
  t.deepEqual(recovered(disk.recover()).entries.map((e) => e.index), [1, 2]);
});

test('a torn write is detected by its checksum and truncated at recovery', (t) => {
  const { scheduler, disk } = setup({ tornWriteProbability: 1 });
  const results: WriteResult[] = [];
  write(disk, { hardState: hard(1, 0, 0), entries: [entry(1, 1)] }, results);
  scheduler.run(1_000_000);
  write(disk, { entries: [entry(2, 1)] }, results);
  disk.crash();
  const back = recovered(disk.recover());
  t.true(back.truncatedTornTail);
  t.deepEqual(back.entries.map((e) => e.index), [1]);
  disk.crash();
  t.false(recovered(disk.recover()).truncatedTornTail, 'the truncation itself is durable');
});

test('bit rot in acknowledged data makes recovery refuse, never return bad data', (t) => {
  const { scheduler, disk } = setup();
  const results: WriteResult[] = [];
  const original = entry(1, 1, 'precious');
  write(disk, { hardState: hard(1, 0, 1), entries: [original, entry(2, 1)] }, results);
  scheduler.run(1_000_000);
  const hit = disk.rot();
  t.regex(hit, /^entry [12]$/);
  disk.crash();
  const result = disk.recover();
  t.true('kind' in result && result.kind === 'corrupt');
  t.is(new TextDecoder().decode(original.data), 'precious', 'rot never touches objects handed out');
});

test('bit rot of the hard state is caught too', (t) => {
  const { disk } = setup();
  t.is(disk.rot(), 'hardState.commit');
  const result = disk.recover();
  t.true('kind' in result && result.kind === 'corrupt');
});

test('read errors at recovery and write errors are reported, not hidden', (t) => {
  const reading = setup({ readErrorProbability: 1 });
  const result = reading.disk.recover();
  t.true('kind' in result && result.kind === 'ioError');
  const writing = setup({ writeErrorProbability: 1 });
  const results: WriteResult[] = [];
  write(writing.disk, { entries: [entry(1, 1)] }, results);
  writing.scheduler.run(1_000_000);
  t.is(results[0]?.kind, 'ioError');
  t.is(writing.disk.durableLastIndex(), 0, 'a failed write is not durable');
});

test('a full disk fails writes with diskFull until space returns', (t) => {
  const { scheduler, disk } = setup();
  const results: WriteResult[] = [];
  disk.fillUntil(5_000);
  write(disk, { entries: [entry(1, 1)] }, results);
  scheduler.run(4_000);
  scheduler.run(10_000);
  write(disk, { entries: [entry(1, 1)] }, results);
  scheduler.run(20_000);
  t.deepEqual(results.map((r) => r.kind), ['diskFull', 'ok']);
});

test('entries at index i replace the stored suffix from i', (t) => {
  const { scheduler, disk } = setup();
  const results: WriteResult[] = [];
  write(disk, { entries: [entry(1, 1), entry(2, 1), entry(3, 1)] }, results);
  write(disk, { entries: [entry(2, 2)] }, results);
  scheduler.run(1_000_000);
  disk.crash();
  t.deepEqual(recovered(disk.recover()).entries.map((e) => [e.index, e.term]), [[1, 1], [2, 2]]);
  write(disk, { entries: [entry(5, 2)] }, results);
  t.throws(() => { scheduler.run(2_000_000); }, { message: /gap/ });
});

const snapshotAt = (index: number, term: number): Snapshot =>
  ({ metadata: { index, term, confState: { voters: [1, 2, 3], learners: [] } }, data: new Uint8Array([index]) });

test('compact keeps the entries after the snapshot; a snapshot write replaces the log', (t) => {
  const { scheduler, disk } = setup();
  const results: WriteResult[] = [];
  write(disk, { entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)] }, results);
  disk.compact(snapshotAt(2, 1), (r) => { results.push(r); });
  scheduler.run(1_000_000);
  disk.crash();
  let back = recovered(disk.recover());
  t.is(back.snapshot?.metadata.index, 2);
  t.deepEqual(back.entries.map((e) => e.index), [3, 4]);

  write(disk, { snapshot: snapshotAt(10, 3), hardState: hard(3, 0, 10) }, results);
  write(disk, { entries: [entry(11, 3)] }, results);
  scheduler.run(2_000_000);
  disk.crash();
  back = recovered(disk.recover());
  t.is(back.snapshot?.metadata.index, 10);
  t.deepEqual(back.entries.map((e) => e.index), [11]);
  t.is(disk.durableLastIndex(), 11);
  t.true(results.every((r) => r.kind === 'ok'));
});

test('completions are FIFO and a crash voids the ones pending', (t) => {
  const { scheduler, disk } = setup({ writeLatencyMsMean: 5 });
  const order: number[] = [];
  for (let i = 1; i <= 20; i++) {
    disk.write({ hardState: null, entries: [entry(i, 1)], snapshot: null, mustSync: i % 3 === 0 }, () => { order.push(i); });
  }
  scheduler.run(10_000);
  const before = order.length;
  disk.crash();
  scheduler.run(100_000_000);
  t.deepEqual(order, Array.from({ length: before }, (_, k) => k + 1));
  t.true(before < 20);
});
