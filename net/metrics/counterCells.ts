// Counters incremented on the hot path (once per gRPC message, every watch event included)
// without prom-client's per-increment work: each `inc` hashes and validates its label
// object. Here each label set gets a cell, a plain number its owner keeps and adds to;
// the cells are added into the prom-client counter when the counter is read (its
// `collect` hook runs before every scrape), so /metrics shows the same totals.

import { Counter, type CounterConfiguration, type LabelValues } from 'prom-client';

/** One label set's count since the counter was last read. */
export class CounterCell<L extends string> {
  pending = 0;

  constructor(readonly labels: LabelValues<L>) {}

  inc(): void {
    this.pending++;
  }
}

export class CellCounter<L extends string> {
  readonly counter: Counter<L>;
  /** Invariant: one cell per label set the owner asked for; owners cache theirs (per method, per code). */
  private readonly cells: CounterCell<L>[] = [];

  constructor(config: Omit<CounterConfiguration<L>, 'collect'>) {
    const cells = this.cells;
    this.counter = new Counter<L>({
      ...config,
      collect(): void {
        for (const cell of cells) {
          if (cell.pending === 0) continue;
          this.inc(cell.labels, cell.pending);
          cell.pending = 0;
        }
      },
    });
  }

  /** A new cell for `labels`: keep it, it is never dropped (ask once per label set). */
  cell(labels: LabelValues<L>): CounterCell<L> {
    const cell = new CounterCell(labels);
    this.cells.push(cell);
    return cell;
  }
}
