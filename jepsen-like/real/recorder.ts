// The run's history, as the checker reads it (docs/history-format.md: one JSON object
// per operation), plus two fields the checker ignores and the report uses: `client`
// (the worker that issued it, across its process ids) and `error`.
//
// Times are microseconds since the run started, from one monotonic clock.

import type { EtcdRequest, EtcdResponse } from '../etcd/types.js';

export interface HistoryRecord {
  readonly process: number;
  readonly client: string;
  readonly call: number;
  readonly return: number | null;
  readonly outcome: 'ok' | 'fail' | 'unknown';
  readonly request: EtcdRequest;
  readonly response?: EtcdResponse;
  readonly error?: string;
  /** When an unknown op's error came back (for the report; the checker treats it as never returned). */
  readonly errorAt?: number;
}

export class Recorder {
  readonly records: HistoryRecord[] = [];
  private nextProcess = 0;
  private readonly t0 = performance.now();

  constructor(readonly maxOps: number) {
    if (!(maxOps > 0)) throw new RangeError(`maxOps must be positive, got ${maxOps}`);
  }

  /** Microseconds since the run started. */
  now(): number {
    return Math.round((performance.now() - this.t0) * 1000);
  }

  /** A fresh process id (a client whose op ended unknown continues as a new one). */
  newProcess(): number {
    return this.nextProcess++;
  }

  private readonly leaseAliases = new Map<string, number>();

  /** The history's number for a real (64-bit, decimal) lease id: 1, 2, 3... in order of first sight. */
  leaseAlias(id: string): number {
    let alias = this.leaseAliases.get(id);
    if (alias === undefined) {
      alias = this.leaseAliases.size + 1;
      this.leaseAliases.set(id, alias);
    }
    return alias;
  }

  get full(): boolean {
    return this.records.length >= this.maxOps;
  }

  /** Acknowledged writes so far: ok puts and txns that succeeded. */
  acknowledged = 0;

  add(record: HistoryRecord): void {
    if (record.return !== null && record.return < record.call) throw new RangeError('an op returned before its call');
    this.records.push(record);
    const { request, response } = record;
    if (record.outcome !== 'ok' || response === undefined || response['error'] !== undefined) return;
    if (request.type === 'put' || (request.type === 'txn' && response['succeeded'] === true)) this.acknowledged++;
  }

  /** By call time: history.jsonl's order (line i + 1 is element i). */
  sorted(): HistoryRecord[] {
    return this.records.slice().sort((a, b) => a.call - b.call);
  }

  /** JSON lines, ordered by call time (the file is read by people too). */
  text(): string {
    return this.sorted().map((r) => JSON.stringify(r)).join('\n') + '\n';
  }
}
