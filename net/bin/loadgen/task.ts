// What the coordinator hands each load-generator worker, and what comes back.

/** authenticate: Authenticate calls (a bcrypt comparison each) with the task's user. */
export type LoadMode = 'put' | 'range-l' | 'range-s' | 'watch' | 'authenticate';

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
}
