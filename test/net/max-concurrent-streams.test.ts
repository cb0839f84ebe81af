// --max-concurrent-streams against real etcd 3.4: with a limit of 2, two open Watch streams
// on one connection make a third call wait (it runs out its deadline on both), and a call
// queued behind them runs once one of them ends; without the flag nothing waits. Bad
// values are refused with etcd's exit code and text.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { loadEtcdServices } from '../../net/proto/load.js';
import { runTernToExit, startEtcd, startTern, type Running, startBoth } from './processes.js';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const services = loadEtcdServices();
const Kv = grpc.makeGenericClientConstructor(services.kv, 'KV');
const Watch = grpc.makeGenericClientConstructor(services.watch, 'Watch');

type Stream = grpc.ClientDuplexStream<unknown, unknown>;
interface KvClient { Range(request: object, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null) => void): void }
interface WatchClient { Watch(): Stream }

/** A Range's outcome: 'ok' or the status name. */
function range(kv: KvClient, deadlineMs: number): Promise<string> {
  return new Promise((resolve) => {
    kv.Range({ key: Buffer.from('a') }, { deadline: Date.now() + deadlineMs }, (error) => { resolve(error === null ? 'ok' : grpc.status[error.code]); });
  });
}

/** A Watch stream the member has answered (so it holds one of the connection's streams). */
function openWatch(watch: WatchClient, key: string): Promise<Stream> {
  const stream = watch.Watch();
  stream.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    stream.once('data', () => { resolve(stream); });
    stream.once('status', (status: grpc.StatusObject) => { reject(new Error(`the watch ended: ${status.details}`)); });
    stream.write({ create_request: { key: Buffer.from(key) } });
  });
}

interface Outcomes { readonly thirdWhileTwoOpen: string; readonly queuedAfterOneEnds: string }

/** Two watches on one channel (one HTTP/2 connection), then calls beside them. */
async function probe(member: Running, thirdDeadlineMs: number): Promise<Outcomes> {
  const channel = new grpc.Channel(member.endpoint, grpc.credentials.createInsecure(), {});
  const options = { channelOverride: channel };
  const watch = new Watch(member.endpoint, grpc.credentials.createInsecure(), options) as unknown as WatchClient;
  const kv = new Kv(member.endpoint, grpc.credentials.createInsecure(), options) as unknown as KvClient;
  const streams: Stream[] = [];
  try {
    streams.push(await openWatch(watch, 'k1'), await openWatch(watch, 'k2'));
    // Without a limit this answers in milliseconds; with one it can only run out its deadline.
    const thirdWhileTwoOpen = await range(kv, thirdDeadlineMs);
    const queued = range(kv, 60_000);
    streams.shift()?.cancel();
    return { thirdWhileTwoOpen, queuedAfterOneEnds: await queued };
  } finally {
    for (const stream of streams) stream.cancel();
    channel.close();
  }
}

async function onBoth(args: readonly string[], thirdDeadlineMs: number): Promise<{ etcd: Outcomes; tern: Outcomes }> {
  const [etcd, tern] = await startBoth(startEtcd({ extraArgs: args }), startTern({ extraArgs: args }));
  try {
    return { etcd: await probe(etcd, thirdDeadlineMs), tern: await probe(tern, thirdDeadlineMs) };
  } finally {
    await Promise.all([etcd.stop(), tern.stop()]);
  }
}

test('with --max-concurrent-streams 2, a third call beside two open watches waits as on etcd, and runs when one ends', async (t) => {
  const { etcd, tern } = await onBoth(['--max-concurrent-streams', '2'], 3_000);
  t.deepEqual(etcd, { thirdWhileTwoOpen: 'DEADLINE_EXCEEDED', queuedAfterOneEnds: 'ok' });
  t.deepEqual(tern, etcd);
});

test('by default (2^32-1 streams) nothing waits, on either', async (t) => {
  // A generous deadline: here the third call must not wait at all, however loaded the machine.
  const { etcd, tern } = await onBoth([], 30_000);
  t.deepEqual(etcd, { thirdWhileTwoOpen: 'ok', queuedAfterOneEnds: 'ok' });
  t.deepEqual(tern, etcd);
});

function runEtcdToExit(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-etcd-streams-'));
  return new Promise((resolve) => {
    execFile('etcd', ['--data-dir', path.join(dir, 'd'), ...args], { timeout: 20_000 }, (error, _stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: error !== null && typeof error.code === 'number' ? error.code : 0, stderr });
    });
  });
}

test('bad --max-concurrent-streams values: etcd\'s exit code and text', async (t) => {
  for (const raw of ['abc', '-1', '4294967296']) {
    const args = ['--max-concurrent-streams', raw];
    const [etcd, tern] = await Promise.all([runEtcdToExit(args), runTernToExit(args)]);
    const said = /invalid value .*/.exec(etcd.stderr)?.[0] ?? `etcd said nothing recognizable: ${etcd.stderr}`;
    t.is(etcd.code, 2, raw);
    t.is(tern.code, etcd.code, raw);
    t.true(tern.stderr.includes(said), `Tern says "${said}":\n${tern.stderr}`);
  }
});
