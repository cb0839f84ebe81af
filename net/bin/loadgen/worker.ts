// One load-generator worker thread: it owns its gRPC connections and a set of closed-
// loop clients (one request in flight each), runs them until the deadline or its share
// of the total, and posts back every operation's latency. Speaks etcd's v3 API through
// Tern's own .proto files, so the same worker drives real etcd and Tern.

import * as grpc from '@grpc/grpc-js';
import { parentPort, workerData } from 'node:worker_threads';
import { loadEtcdServices } from '../../proto/load.js';
import { channelCredentials } from '../../tls/channelCredentials.js';
import { processCpuMicros, type ClientTlsFiles, type WorkerResult, type WorkerTask } from './task.js';
import { runGatewayLoad } from './gatewayLoad.js';
import { keyBytes, keyIndex } from './keys.js';
import { runWatchLoad } from './watchLoad.js';

type UnaryMethod = (
  request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: { token?: string }) => void,
) => void;
type Connection = grpc.Client & Record<string, UnaryMethod>;

/** A client of the KV and Auth services over one connection. */
function kvClient(endpoint: string, tls: ClientTlsFiles | undefined): Connection {
  const services = loadEtcdServices();
  const Kv = grpc.makeGenericClientConstructor({ ...services.kv, ...services.auth }, 'KVAuth');
  const credentials = tls === undefined
    ? grpc.credentials.createInsecure()
    : channelCredentials({ trustedCaFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile, skipVerify: false });
  return new Kv(endpoint, credentials, {
    // Separate HTTP/2 connections per client object (grpc-js would share one otherwise).
    'grpc.use_local_subchannel_pool': 1,
  }) as unknown as Connection;
}

/** The token metadata of `user` on this connection (one Authenticate), or none without auth. */
function tokenOf(conn: Connection, task: WorkerTask): Promise<grpc.Metadata> {
  const metadata = new grpc.Metadata();
  const auth = task.auth;
  const authenticate = conn['Authenticate'];
  if (auth === undefined || task.mode === 'authenticate' || authenticate === undefined) return Promise.resolve(metadata);
  return new Promise((resolve, reject) => {
    authenticate.call(conn, { name: auth.user, password: auth.password }, new grpc.Metadata(), {}, (error, response) => {
      if (error !== null) {
        reject(error);
        return;
      }
      metadata.set('token', response?.token ?? '');
      resolve(metadata);
    });
  });
}

function request(task: WorkerTask, n: number): { method: string; body: object } {
  const index = keyIndex(task.sequentialKeys, n, task.keySpace);
  const key = keyBytes(index, task.keySize);
  if (task.mode === 'put') return { method: 'Put', body: { key, value: task.value } };
  if (task.mode === 'authenticate') return { method: 'Authenticate', body: { name: task.auth?.user ?? '', password: task.auth?.password ?? '' } };
  return { method: 'Range', body: { key, serializable: task.mode === 'range-s' } };
}

async function run(task: WorkerTask): Promise<WorkerResult> {
  const conns = Array.from({ length: task.conns }, (_, i) => kvClient(task.endpoints[i % task.endpoints.length] ?? '', task.tls));
  await Promise.all(conns.map((c) => new Promise<void>((resolve, reject) => {
    c.waitForReady(Date.now() + 10_000, (error) => { if (error) reject(error); else resolve(); });
  })));
  const tokens = await Promise.all(conns.map((c) => tokenOf(c, task)));
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const errorSamples: string[] = [];
  const deadline = Date.now() + task.durationMs;
  const started = performance.now();
  const cpuStart = processCpuMicros();
  const client = (conn: Connection, metadata: grpc.Metadata): Promise<void> => new Promise((done) => {
    const next = (): void => {
      if (issued >= task.total || Date.now() >= deadline) {
        done();
        return;
      }
      const { method, body } = request(task, issued++);
      const t0 = performance.now();
      const call = conn[method];
      if (call === undefined) throw new Error(`no method ${method}`);
      call.call(conn, body, metadata, { deadline: Date.now() + 10_000 }, (error) => {
        if (error === null) latencies.push(performance.now() - t0);
        else {
          errors++;
          if (errorSamples.length < 3) errorSamples.push(error.message);
        }
        next();
      });
    };
    next();
  });
  await Promise.all(Array.from({ length: task.clients }, (_, i) => {
    const conn = conns[i % conns.length];
    const metadata = tokens[i % conns.length];
    if (conn === undefined || metadata === undefined) throw new Error('no connections');
    return client(conn, metadata);
  }));
  const seconds = (performance.now() - started) / 1000;
  const cpuEnd = processCpuMicros();
  for (const c of conns) c.close();
  return { latencies: Float64Array.from(latencies), errors, errorSamples, seconds, cpuWindowMicros: [cpuStart, cpuEnd] };
}

const port = parentPort;
if (port === null) throw new Error('the load-generator worker must run in a worker thread');
const task = workerData as WorkerTask;
function runTask(task: WorkerTask): Promise<WorkerResult> {
  if (task.mode === 'watch') return runWatchLoad(task);
  if (task.mode === 'gw-put' || task.mode === 'gw-range') return runGatewayLoad(task);
  return run(task);
}

runTask(task).then(
  (result) => { port.postMessage(result); },
  (error: unknown) => { throw error; },
);
