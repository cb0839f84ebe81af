// grpc.health.v1.Health/Watch on Tern beside real etcd 3.4.23 (whose grpc-go health
// server implements it): the overall service answers SERVING and the stream stays open;
// an unknown service answers SERVICE_UNKNOWN and stays open too.
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { loadEtcdServices } from '../../net/proto/load.js';
import type { Wire } from '../../net/wire/message.js';
import { startEtcd, startTern, type Running } from './processes.js';

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** The first message of a Watch for `service`, and whether the stream was still open after it and a Check round trip. */
async function firstWatchMessage(client: Client, service: string): Promise<{ status: unknown; openAfter: boolean }> {
  const call = client['Watch']?.({ service }) as grpc.ClientReadableStream<Wire>;
  let ended = false;
  call.on('end', () => { ended = true; });
  call.on('error', () => { ended = true; });
  const first = await new Promise<Wire>((resolve) => { call.once('data', resolve); });
  await new Promise((resolve) => { client['Check']?.({ service: '' }, resolve); });
  const openAfter = !ended;
  call.cancel();
  return { status: first['status'], openAfter };
}

async function watchStory(server: Running): Promise<unknown[]> {
  const Ctor = grpc.makeGenericClientConstructor(loadEtcdServices().health, 'health');
  const client = new Ctor(server.endpoint, grpc.credentials.createInsecure()) as Client;
  try {
    return [await firstWatchMessage(client, ''), await firstWatchMessage(client, 'etcdserverpb.KV')];
  } finally {
    client.close();
  }
}

test('health Watch answers as etcd\'s and keeps the stream open', async (t) => {
  const [tern, etcd] = [await startTern(), await startEtcd()];
  try {
    const [ours, theirs] = [await watchStory(tern), await watchStory(etcd)];
    t.deepEqual(ours, theirs);
    t.deepEqual(theirs, [{ status: 'SERVING', openAfter: true }, { status: 'SERVICE_UNKNOWN', openAfter: true }]);
  } finally {
    await Promise.all([tern.stop(), etcd.stop()]);
  }
});
