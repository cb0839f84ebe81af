// The watch case of the load generator: `clients` watchers of one key, spread over
// `conns` connections (one Watch stream each, many watchers per stream), and one more
// connection putting the key `total` times at `rate` puts/s. Each value carries its
// put's send time; an operation is one event delivered to one watcher, timed from the
// put's send to the event's arrival (commit and fan-out included). Events that never
// arrive are counted as errors.

import * as grpc from '@grpc/grpc-js';
import { loadEtcdServices } from '../../proto/load.js';
import { processCpuMicros, type WorkerResult, type WorkerTask } from './task.js';

type Wire = Record<string, unknown>;

const KEY = Buffer.from('bench-watch');
/** How long to wait for the last events after the last put. */
const DRAIN_MS = 2000;

function client(definition: grpc.ServiceDefinition, name: string, endpoint: string): grpc.Client {
  const Ctor = grpc.makeGenericClientConstructor(definition, name);
  return new Ctor(endpoint, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
}

function ready(c: grpc.Client): Promise<void> {
  return new Promise((resolve, reject) => {
    c.waitForReady(Date.now() + 10_000, (error) => { if (error) reject(error); else resolve(); });
  });
}

export async function runWatchLoad(task: WorkerTask): Promise<WorkerResult> {
  const services = loadEtcdServices();
  const endpoint = (i: number): string => task.endpoints[i % task.endpoints.length] ?? '';
  const watchConns = Array.from({ length: task.conns }, (_, i) => client(services.watch, 'Watch', endpoint(i)));
  const putter = client(services.kv, 'KV', endpoint(0));
  await Promise.all([...watchConns, putter].map(ready));
  const latencies: number[] = [];
  let created = 0;
  const streams = watchConns.map((conn, i) => {
    const stream = conn.makeBidiStreamRequest('/etcdserverpb.Watch/Watch', (m: Wire) => services.watch['Watch']?.requestSerialize(m) ?? Buffer.alloc(0),
      (b: Buffer) => services.watch['Watch']?.responseDeserialize(b) as Wire, {});
    stream.on('data', (response: Wire) => {
      if (response['created'] === true) created++;
      const arrived = performance.now();
      for (const event of (response['events'] as Wire[] | undefined) ?? []) {
        const value = (event['kv'] as Wire | undefined)?.['value'];
        if (Buffer.isBuffer(value) && value.length >= 8) latencies.push(arrived - value.readDoubleLE(0));
      }
    });
    stream.on('error', () => undefined); // ended by close() below
    const watchers = Math.floor(task.clients / task.conns) + (i < task.clients % task.conns ? 1 : 0);
    for (let w = 0; w < watchers; w++) stream.write({ create_request: { key: KEY } });
    return stream;
  });
  while (created < task.clients) await new Promise((r) => setTimeout(r, 5));
  const started = performance.now();
  const cpuStart = processCpuMicros();
  let errors = 0;
  const errorSamples: string[] = [];
  const interval = 1000 / Math.max(1, task.rate);
  for (let n = 0; n < task.total; n++) {
    const wait = started + n * interval - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const value = Buffer.alloc(Math.max(8, task.value.length));
    value.writeDoubleLE(performance.now(), 0);
    putter.makeUnaryRequest('/etcdserverpb.KV/Put', (m: Wire) => services.kv['Put']?.requestSerialize(m) ?? Buffer.alloc(0),
      (b: Buffer) => b, { key: KEY, value }, { deadline: Date.now() + 10_000 }, (error) => {
        if (error === null) return;
        errors++;
        if (errorSamples.length < 3) errorSamples.push(error.message);
      });
  }
  const expected = task.total * task.clients;
  const drainUntil = performance.now() + DRAIN_MS;
  while (latencies.length < expected && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 10));
  const seconds = (performance.now() - started) / 1000;
  const cpuEnd = processCpuMicros();
  for (const s of streams) s.cancel();
  for (const c of [...watchConns, putter]) c.close();
  const missing = Math.max(0, expected - latencies.length);
  if (missing > 0 && errorSamples.length < 3) errorSamples.push(`${missing} events never arrived`);
  return { latencies: Float64Array.from(latencies), errors: errors + missing, errorSamples, seconds, cpuWindowMicros: [cpuStart, cpuEnd] };
}
