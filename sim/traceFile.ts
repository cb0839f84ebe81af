// Writes a run's event trace as JSON lines (`--trace FILE`), the input of the
// teaching viewer. Lines are buffered and written synchronously in batches: the
// simulator's loop never awaits.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { TraceRecord, TraceSink } from './scheduler.js';

const BATCH_LINES = 4096;

export class TraceFile {
  private readonly fd: number;
  private lines: string[] = [];

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  readonly sink: TraceSink = (record: TraceRecord): void => {
    const line: Record<string, unknown> = {
      seq: record.seq, t_us: record.timeUs, kind: record.kind, node: record.node,
    };
    if (record.a !== 0) line['a'] = record.a;
    if (record.b !== 0) line['b'] = record.b;
    if (record.info !== undefined) line['info'] = record.info;
    this.lines.push(JSON.stringify(line));
    if (this.lines.length >= BATCH_LINES) this.flush();
  };

  /** Appends one line written by the caller (e.g. the run's result). */
  writeLine(value: unknown): void {
    this.lines.push(JSON.stringify(value));
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.lines.length === 0) return;
    writeSync(this.fd, this.lines.join('\n') + '\n');
    this.lines = [];
  }
}
