// One sync per put (storage/deferredWrites.ts): a member commits the MVCC batches it
// applies, and the commit index, only with its next Raft log write. Here, on a real
// process and real LMDB, a member is killed with SIGKILL while the effects of its last
// acknowledged puts exist only in its memory (--backend-batch-interval 1h: no timer
// commits them), which the test checks in the data dir before the restart. The
// restarted member applies those entries again from the Raft log: every acknowledged
// put is there, with its revision (read serializably too), and the next put gets the next revision.
import test from 'ava';
import path from 'node:path';
import { BboltBackend } from '../../storage/bboltBackend.js';
import { openLmdbEnv } from '../../storage/lmdbEnv.js';
import { LmdbLogStore } from '../../storage/lmdbLogStore.js';
import { etcdctl, removeDataDir, startTern, tempDataDir, type Running } from './processes.js';

const PUTS = 30;

async function metric(endpoint: string, name: string): Promise<number> {
  const text = await (await fetch(`http://${endpoint}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

function killed(member: Running): Promise<void> {
  return new Promise((resolve) => {
    if (member.process.exitCode !== null || member.process.signalCode !== null) {
      resolve();
      return;
    }
    member.process.once('exit', () => { resolve(); });
    member.process.kill('SIGKILL');
  });
}

/** What the (stopped) member's LMDB environment holds: the backend's applied index, the log's end and commit. */
async function onDisk(dataDir: string): Promise<{ applied: number; lastIndex: number; commit: number }> {
  const backend = BboltBackend.open(path.join(dataDir, 'member', 'snap', 'db'));
  const applied = backend.durableMeta.appliedIndex;
  backend.close();
  const root = openLmdbEnv(path.join(dataDir, 'member', 'wal'));
  try {
    const recovered = LmdbLogStore.onEnv(root).recover();
    if ('kind' in recovered) throw new Error(`the log does not recover: ${recovered.detail}`);
    const lastIndex = recovered.entries.at(-1)?.index ?? recovered.snapshot?.metadata.index ?? 0;
    return { applied, lastIndex, commit: recovered.hardState.commit };
  } finally {
    await root.close();
  }
}

test('SIGKILL with the last puts applied only in memory: the restart replays them from the Raft log', async (t) => {
  const dataDir = tempDataDir();
  const running: Running[] = [];
  try {
    const first = await startTern({ dataDir, extraArgs: ['--backend-batch-interval', '1h'] });
    running.push(first);
    const acked: { key: string; value: string; revision: number }[] = [];
    for (let i = 0; i < PUTS; i++) {
      const [key, value] = [`k${i % 7}`, `v${i}`];
      const out = await etcdctl(first.endpoint, ['put', key, value, '-w', 'json']);
      t.is(out.code, 0, out.stderr);
      const revision = (JSON.parse(out.stdout) as { header: { revision: number } }).header.revision;
      acked.push({ key, value, revision });
    }
    await killed(first);

    // The precondition that makes this test mean something: the backend on disk is
    // behind the log (the last put's batch and commit index were never committed).
    const disk = await onDisk(dataDir);
    t.log(`on disk after the kill: applied ${disk.applied}, commit ${disk.commit}, log ends at ${disk.lastIndex}`);
    t.true(disk.applied < disk.lastIndex, 'the last applied batch was only in memory');
    t.true(disk.applied <= disk.commit, 'the backend never claims more than the durable commit index');

    const second = await startTern({ dataDir });
    running.push(second);
    // A serializable read does not go back in time either: it waits for the replay (core/server/catchUp.ts).
    const lastPut = acked.at(-1);
    const serializable = await etcdctl(second.endpoint, ['get', lastPut?.key ?? '', '--consistency=s', '--print-value-only']);
    t.is(serializable.stdout, `${lastPut?.value ?? ''}\n`, 'the last acknowledged put, read serializably at once');
    for (const a of acked) {
      const out = await etcdctl(second.endpoint, ['get', a.key, '--rev', String(a.revision), '--print-value-only']);
      t.is(out.stdout, `${a.value}\n`, `${a.key} at revision ${a.revision}`);
    }
    t.true(await metric(second.endpoint, 'tern_server_apply_executed_entries') >= 1, 'entries were applied again');
    const last = acked.at(-1)?.revision ?? 0;
    t.regex((await etcdctl(second.endpoint, ['put', 'next', 'x', '-w', 'json'])).stdout, new RegExp(`"revision":${last + 1}\\b`));
    t.is(await second.stop(), 0);
  } finally {
    await Promise.all(running.map((r) => r.stop()));
    removeDataDir(dataDir);
  }
});
