// Tern's read-write bbolt file (storage/bbolt/) against a model and against Go's own
// bbolt: whatever transactions Tern commits, Go's tx.Check() finds nothing wrong and
// reads exactly the model; whatever Go's bbolt writes, Tern reads and goes on writing.
import test from 'ava';
import fc from 'fast-check';
import { closeSync, openSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BboltDb, BboltFormatError } from '../../storage/bbolt/db.js';
import { inTempDir } from './util.js';
import { boltcheckUnavailable, goApply, goRead } from './boltcheck.js';


type Model = Map<string, Map<string, string>>;

type Op =
  | { readonly kind: 'put'; readonly bucket: string; readonly key: number; readonly size: number; readonly fill: number }
  | { readonly kind: 'del'; readonly bucket: string; readonly key: number }
  | { readonly kind: 'bulk'; readonly bucket: string; readonly start: number; readonly count: number; readonly size: number }
  | { readonly kind: 'delRange'; readonly bucket: string; readonly start: number; readonly count: number }
  | { readonly kind: 'drop'; readonly bucket: string };

interface Step {
  readonly ops: readonly Op[];
  /** Close and open the file again after this transaction. */
  readonly reopen: boolean;
  /** Throw at the end of the transaction instead of committing (nothing of it may land). */
  readonly abort: boolean;
}

const BUCKETS = ['key', 'lease', 'meta'];

/** A key: a 4-byte big-endian number, so byte order is number order. */
function keyOf(n: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeUInt32BE(n);
  return key;
}

function valueOf(n: number, size: number): Buffer {
  return Buffer.alloc(size, n % 251);
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), bucket: fc.constantFrom(...BUCKETS), key: fc.nat(400), size: fc.constantFrom(0, 8, 100, 900, 5000), fill: fc.nat(250) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('del' as const), bucket: fc.constantFrom(...BUCKETS), key: fc.nat(400) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bulk' as const), bucket: fc.constantFrom(...BUCKETS), start: fc.nat(400), count: fc.integer({ min: 50, max: 400 }), size: fc.constantFrom(20, 200, 1500) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delRange' as const), bucket: fc.constantFrom(...BUCKETS), start: fc.nat(400), count: fc.integer({ min: 10, max: 400 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), bucket: fc.constantFrom(...BUCKETS) }) },
);

const stepsArb: fc.Arbitrary<Step[]> = fc.array(
  fc.record({ ops: fc.array(opArb, { minLength: 1, maxLength: 12 }), reopen: fc.boolean(), abort: fc.nat(9).map((n) => n === 0) }),
  { minLength: 1, maxLength: 10 },
);

/** Applies a step's ops to the database's transaction and to the model. */
function applyOps(db: BboltDb, model: Model, step: Step): void {
  const next: Model = new Map([...model].map(([name, keys]) => [name, new Map(keys)]));
  const run = (): void => {
    db.update((tx) => {
      for (const op of step.ops) {
        if (op.kind === 'drop') {
          tx.deleteBucket(op.bucket);
          next.delete(op.bucket);
          continue;
        }
        const bucket = tx.createBucket(op.bucket);
        const keys = next.get(op.bucket) ?? new Map<string, string>();
        next.set(op.bucket, keys);
        switch (op.kind) {
          case 'put':
            bucket.fillPercent = 0.1 + op.fill / 250 * 0.9;
            bucket.put(keyOf(op.key), valueOf(op.key, op.size));
            keys.set(keyOf(op.key).toString('hex'), valueOf(op.key, op.size).toString('hex'));
            break;
          case 'del':
            bucket.delete(keyOf(op.key));
            keys.delete(keyOf(op.key).toString('hex'));
            break;
          case 'bulk':
            for (let k = op.start; k < op.start + op.count; k++) {
              bucket.put(keyOf(k), valueOf(k, op.size));
              keys.set(keyOf(k).toString('hex'), valueOf(k, op.size).toString('hex'));
            }
            break;
          case 'delRange':
            for (let k = op.start; k < op.start + op.count; k++) {
              bucket.delete(keyOf(k));
              keys.delete(keyOf(k).toString('hex'));
            }
            break;
        }
      }
      if (step.abort) throw new Error('aborted');
    });
  };
  if (step.abort) {
    try {
      run();
    } catch {
      return; // the model stays as it was
    }
    throw new Error('an aborted transaction returned');
  }
  run();
  model.clear();
  for (const [name, keys] of next) model.set(name, keys);
}

/** What Tern reads: bucket → key → value, in hex (bucket names as Go prints them). */
function ternRead(db: BboltDb): Map<string, [string, string][]> {
  return db.view((tx) => {
    const out = new Map<string, [string, string][]>();
    for (const name of tx.bucketNames()) {
      const rows: [string, string][] = [];
      tx.bucket(name)?.scan(null, null, (key, value) => { rows.push([key.toString('hex'), value.toString('hex')]); return true; });
      out.set(Buffer.from(name).toString('hex'), rows);
    }
    return out;
  });
}

function modelRows(model: Model): Map<string, [string, string][]> {
  const out = new Map<string, [string, string][]>();
  for (const name of [...model.keys()].sort()) {
    const keys = model.get(name) ?? new Map<string, string>();
    out.set(Buffer.from(name).toString('hex'), [...keys].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  }
  return out;
}

const unavailable = boltcheckUnavailable();


test('any sequence of transactions: Tern reads the model back, after reopening too, and reads every key by Get', (t) => {
  inTempDir((dir) => {
    let run = 0;
    fc.assert(fc.property(stepsArb, (steps) => {
      const file = join(dir, `model-${run++}.db`);
      const model: Model = new Map();
      let db = BboltDb.open(file, { create: true });
      try {
        for (const step of steps) {
          applyOps(db, model, step);
          if (step.reopen) {
            db.close();
            db = BboltDb.open(file);
          }
          t.deepEqual(ternRead(db), modelRows(model));
        }
        db.view((tx) => {
          for (const [name, keys] of model) {
            for (const [key, value] of keys) {
              if (tx.bucket(name)?.get(Buffer.from(key, 'hex'))?.toString('hex') !== value) throw new Error(`Get ${name}/${key}`);
            }
          }
        });
      } finally {
        db.close();
      }
    }), { numRuns: 60 });
  });
});

if (unavailable !== null) {
  test('Go\'s bbolt judges Tern\'s files (skipped: no Go toolchain)', (t) => { t.log(unavailable); t.pass(); });
} else {
  test('Go\'s bbolt finds nothing wrong in any file Tern commits (tx.Check) and reads exactly the model', (t) => {
    inTempDir((dir) => {
      let run = 0;
      fc.assert(fc.property(stepsArb, (steps) => {
        const file = join(dir, `go-${run++}.db`);
        const model: Model = new Map();
        const db = BboltDb.open(file, { create: true });
        try {
          for (const step of steps) applyOps(db, model, step);
        } finally {
          db.close();
        }
        t.deepEqual(goRead(file), modelRows(model));
      }), { numRuns: 25 });
    });
  });

  test('a file Go\'s bbolt wrote (inline and paged buckets, a freelist, deletes): Tern reads it and writes on, and Go reads that', (t) => {
    inTempDir((dir) => {
      const file = join(dir, 'from-go.db');
      const model: Model = new Map([['key', new Map<string, string>()], ['meta', new Map<string, string>()]]);
      const lines: string[] = ['fill 6b6579 0.9'];
      for (let k = 0; k < 3000; k++) {
        lines.push(`put 6b6579 ${keyOf(k).toString('hex')} ${valueOf(k, 120).toString('hex')}`);
        model.get('key')?.set(keyOf(k).toString('hex'), valueOf(k, 120).toString('hex'));
        if (k % 500 === 499) lines.push('commit');
      }
      for (let k = 0; k < 1000; k += 3) {
        lines.push(`del 6b6579 ${keyOf(k).toString('hex')}`);
        model.get('key')?.delete(keyOf(k).toString('hex'));
      }
      lines.push(`put 6d657461 ${Buffer.from('consistent_index').toString('hex')} 0000000000000007`, 'commit');
      model.get('meta')?.set(Buffer.from('consistent_index').toString('hex'), '0000000000000007');
      goApply(file, `${lines.join('\n')}\n`);
      const db = BboltDb.open(file);
      try {
        t.deepEqual(ternRead(db), modelRows(model));
        applyOps(db, model, { reopen: false, abort: false, ops: [
          { kind: 'delRange', bucket: 'key', start: 1000, count: 1500 },
          { kind: 'bulk', bucket: 'key', start: 5000, count: 800, size: 300 },
          { kind: 'put', bucket: 'meta', key: 1, size: 8, fill: 0 },
          { kind: 'bulk', bucket: 'lease', start: 0, count: 3, size: 10 },
        ] });
      } finally {
        db.close();
      }
      t.deepEqual(goRead(file), modelRows(model));
    });
  });

  test('what etcd\'s e2e TestEtcdCorruptHash does to member/snap/db (every key and value changed by Go\'s bbolt in place) Tern reads as changed', (t) => {
    inTempDir((dir) => {
      const file = join(dir, 'db');
      const db = BboltDb.open(file, { create: true });
      db.update((tx) => {
        const keys = tx.createBucket('key');
        for (let i = 0; i < 10; i++) keys.put(keyOf(i), Buffer.from(`v${i}`));
      });
      db.close();
      const script = [];
      for (let i = 0; i < 10; i++) script.push(`put 6b6579 ${keyOf(i).toString('hex')} ${Buffer.from(`w${i}`).toString('hex')}`);
      goApply(file, `${script.join('\n')}\ncommit\n`);
      const reopened = BboltDb.open(file);
      try {
        const values = reopened.view((tx) => {
          const out: string[] = [];
          tx.bucket('key')?.scan(null, null, (_key, value) => { out.push(value.toString()); return true; });
          return out;
        });
        t.deepEqual(values, ['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'w9']);
      } finally {
        reopened.close();
      }
    });
  });
}

test('a torn meta page (the last commit\'s, written when power failed) falls back to the commit before, whole', (t) => {
  inTempDir((dir) => {
    const file = join(dir, 'torn.db');
    const db = BboltDb.open(file, { create: true });
    db.update((tx) => { const b = tx.createBucket('key'); for (let k = 0; k < 500; k++) b.put(keyOf(k), valueOf(k, 100)); });
    const before = ternRead(db);
    db.update((tx) => { const b = tx.createBucket('key'); for (let k = 0; k < 500; k += 2) b.delete(keyOf(k)); for (let k = 500; k < 900; k++) b.put(keyOf(k), valueOf(k, 100)); });
    const txid = db.txid;
    t.notDeepEqual(ternRead(db), before);
    db.close();
    // The last meta page's sector with its root and txid never reached the disk whole.
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(24, 0xee), 0, 24, (txid % 2) * 4096 + 16 + 16);
    closeSync(fd);
    const reopened = BboltDb.open(file);
    try {
      t.is(reopened.txid, txid - 1);
      t.deepEqual(ternRead(reopened), before);
    } finally {
      reopened.close();
    }
  });
});

test('a transaction that throws writes nothing; one that changes nothing commits nothing', (t) => {
  inTempDir((dir) => {
    const file = join(dir, 'abort.db');
    const db = BboltDb.open(file, { create: true });
    try {
      db.update((tx) => { tx.createBucket('meta').put(Buffer.from('a'), Buffer.from('1')); });
      const txid = db.txid;
      const bytes = readFileSync(file);
      t.throws(() => db.update((tx) => { tx.createBucket('key').put(Buffer.from('b'), Buffer.from('2')); throw new Error('no'); }), { message: 'no' });
      db.update((tx) => { tx.bucket('meta')?.get(Buffer.from('a')); });
      t.is(db.txid, txid);
      t.deepEqual(readFileSync(file), bytes);
      t.deepEqual(db.view((tx) => tx.bucketNames()), ['meta']);
    } finally {
      db.close();
    }
  });
});

test('not a bbolt file, a cut-short one, a missing one: a BboltFormatError or a refusal, never an empty database', (t) => {
  inTempDir((dir) => {
    const noise = join(dir, 'noise.db');
    writeFileSync(noise, Buffer.alloc(5 * 4096, 0x5a));
    t.throws(() => BboltDb.open(noise), { instanceOf: BboltFormatError, message: /not a bbolt file/ });
    const cut = join(dir, 'cut.db');
    const db = BboltDb.open(cut, { create: true });
    db.update((tx) => { const b = tx.createBucket('key'); for (let k = 0; k < 2000; k++) b.put(keyOf(k), valueOf(k, 100)); });
    db.close();
    truncateSync(cut, statSync(cut).size - 4096 * 3);
    t.throws(() => BboltDb.open(cut), { instanceOf: BboltFormatError, message: /shorter than/ });
    t.throws(() => BboltDb.open(join(dir, 'missing.db')), { code: 'ENOENT' });
    writeFileSync(join(dir, 'empty.db'), '');
    t.throws(() => BboltDb.open(join(dir, 'empty.db')), { instanceOf: BboltFormatError, message: /empty/ });
  });
});
