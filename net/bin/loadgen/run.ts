// The load generator's coordinator: splits clients and connections over worker
// threads, starts them together, merges their latencies and reports throughput and
// nearest-rank percentiles.

import { Worker } from 'node:worker_threads';
import type { BenchUser, ClientTlsFiles, LoadMode, WorkerResult, WorkerTask } from './task.js';

export interface LoadOptions {
  readonly mode: LoadMode;
  readonly endpoints: readonly string[];
  readonly clients: number;
  readonly conns: number;
  readonly workers: number;
  readonly total: number;
  readonly durationMs: number;
  readonly keySize?: number;
  readonly valueSize?: number;
  readonly keySpace?: number;
  readonly sequentialKeys?: boolean;
  /** watch: puts per second. */
  readonly rate?: number;
  readonly tls?: ClientTlsFiles;
  readonly auth?: BenchUser;
}

export interface LoadResult {
  readonly ops: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly seconds: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /**
   * The load generator's CPU while the clock ran, as a share of one core (1 = one core
   * busy): from the first worker's start to the last one's stop, every thread of this
   * process. Near `workers` (or near the machine's cores) the client, not the server,
   * may be what limits ops/s.
   */
  readonly clientCores: number;
}

const WORKER = new URL('./worker.js', import.meta.url);

/** Splits n into k near-equal positive parts (k ≤ n). */
function split(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const workers = Math.max(1, Math.min(options.workers, options.conns, options.clients));
  const conns = split(options.conns, workers);
  const clients = split(options.clients, workers);
  const totals = split(options.total, workers);
  const value = new Uint8Array(options.valueSize ?? 256).fill(0x76);
  const results = await Promise.all(conns.map((c, i) => {
    const task: WorkerTask = {
      mode: options.mode, endpoints: options.endpoints, clients: clients[i] ?? 1, conns: c, total: totals[i] ?? 0,
      durationMs: options.durationMs, keySize: options.keySize ?? 8, keySpace: options.keySpace ?? 10_000,
      sequentialKeys: options.sequentialKeys ?? false, value, rate: options.rate ?? 0,
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.auth === undefined ? {} : { auth: options.auth }),
    };
    return new Promise<WorkerResult>((resolve, reject) => {
      const worker = new Worker(WORKER, { workerData: task });
      worker.once('message', (result: WorkerResult) => { resolve(result); });
      worker.once('error', reject);
    });
  }));
  const all = new Float64Array(results.reduce((n, r) => n + r.latencies.length, 0));
  let at = 0;
  for (const r of results) {
    all.set(r.latencies, at);
    at += r.latencies.length;
  }
  all.sort();
  const rank = (q: number): number => all[Math.min(all.length - 1, Math.max(0, Math.ceil(q * all.length) - 1))] ?? 0;
  const seconds = Math.max(...results.map((r) => r.seconds));
  const cpuFrom = Math.min(...results.map((r) => r.cpuWindowMicros[0]));
  const cpuTo = Math.max(...results.map((r) => r.cpuWindowMicros[1]));
  return {
    ops: all.length,
    errors: results.reduce((n, r) => n + r.errors, 0),
    errorSamples: results.flatMap((r) => r.errorSamples).slice(0, 3),
    seconds,
    opsPerSecond: all.length / seconds,
    p50Ms: rank(0.5),
    p99Ms: rank(0.99),
    clientCores: seconds > 0 ? (cpuTo - cpuFrom) / 1e6 / seconds : 0,
  };
}
