// What the coordinator hands each load-generator worker, and what comes back.

/**
 * authenticate: Authenticate calls (a bcrypt comparison each) with the task's user.
 * gw-put, gw-range: Put and linearizable Range as JSON POSTs to the gateway (gatewayLoad.ts).
 */
export type LoadMode = 'put' | 'range-l' | 'range-s' | 'watch' | 'authenticate' | 'gw-put' | 'gw-range';

export interface WorkerTask {
  readonly mode: LoadMode;
  readonly endpoints: readonly string[];
  readonly clients: number;
  readonly conns: number;
  /** Stop after this many operations (this worker's share) or at the deadline. */
  readonly total: number;
  readonly durationMs: number;
  readonly keySize: number;
  readonly keySpace: number;
  readonly sequentialKeys: boolean;
  readonly value: Uint8Array;
  /** watch: puts per second (the other modes run closed-loop). */
  readonly rate: number;
  /** Dial with TLS: the CA to trust and the client certificate (file paths; workers read them). */
  readonly tls?: ClientTlsFiles;
  /** With auth on: every connection authenticates once as this user and sends its token. */
  readonly auth?: BenchUser;
}

export interface BenchUser {
  readonly user: string;
  readonly password: string;
}

export interface ClientTlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface WorkerResult {
  readonly latencies: Float64Array;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly seconds: number;
  /** This process's CPU (user + system, every thread) in µs when the clock started and stopped (processCpuMicros). */
  readonly cpuWindowMicros: readonly [number, number];
}

/** The load-generator process's CPU so far, in µs: worker threads share it, so it counts them all. */
export function processCpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}
