// etcd 3.4's mvcc families (mvcc/metrics.go): etcd_mvcc_* and their etcd_debugging_mvcc_*
// twins, under etcd's names, help texts and types. The store and the watch hub keep the
// counts as plain numbers (core/mvcc/mvccCounters.ts); these families read them at
// scrape time, so the core is not told about metrics.

import { Counter, Gauge, Histogram, exponentialBuckets, type Registry } from 'prom-client';
import type { MetricSources } from './memberMetrics.js';

/** The mvcc and watch readings (etcd_mvcc_*, etcd_debugging_mvcc_*), read at scrape time. */
export interface MvccReadings {
  readonly ranges: number;
  readonly puts: number;
  readonly deletes: number;
  readonly txns: number;
  readonly putBytes: number;
  readonly currentRevision: number;
  /** -1 before the first compaction, as etcd. */
  readonly compactRevision: number;
  readonly watchStreams: number;
  readonly watchers: number;
  /** Watchers catching up from history (etcd's unsynced "slow" watchers). */
  readonly slowWatchers: number;
  readonly eventsSent: number;
}

/** A registrar of gauges whose value is read off the member's sources at scrape time (0 before there are any). */
export function scrapeTimeGauges(registry: Registry, current: () => MetricSources | null): (name: string, help: string, read: (sources: MetricSources) => number) => void {
  const registers = [registry];
  return (name, help, read) => {
    new Gauge({
      name, help, registers,
      collect() {
        const sources = current();
        this.set(sources === null ? 0 : read(sources));
      },
    });
  };
}

/** etcd's hash buckets: 10 ms … 163.84 s, doubling (mvcc/metrics.go). */
const HASH_BUCKETS = exponentialBuckets(0.01, 2, 15);

/** Registers the families; returns the hash histograms, which the Maintenance service feeds. */
export function registerMvccMetrics(registry: Registry, current: () => MetricSources | null): { hashSeconds: Histogram; hashRevSeconds: Histogram } {
  const registers = [registry];
  const gauge = scrapeTimeGauges(registry, current);
  // etcd's mvcc families: counters the store keeps as plain numbers, read here.
  const counter = (name: string, help: string, read: (m: MvccReadings) => number): void => {
    new Counter({
      name, help, registers,
      collect() {
        const sources = current();
        this.reset();
        const value = sources === null ? 0 : read(sources.mvcc());
        if (value > 0) this.inc(value);
      },
    });
  };
  for (const prefix of ['etcd_mvcc', 'etcd_debugging_mvcc']) {
    counter(`${prefix}_range_total`, 'Total number of ranges seen by this member.', (m) => m.ranges);
    counter(`${prefix}_put_total`, 'Total number of puts seen by this member.', (m) => m.puts);
    counter(`${prefix}_delete_total`, 'Total number of deletes seen by this member.', (m) => m.deletes);
    counter(`${prefix}_txn_total`, 'Total number of txns seen by this member.', (m) => m.txns);
  }
  // etcd declares the put size a gauge.
  gauge('etcd_debugging_mvcc_total_put_size_in_bytes', 'The total size of put kv pairs seen by this member.',
    (s) => s.mvcc().putBytes);
  gauge('etcd_debugging_mvcc_current_revision', 'The current revision of store.', (s) => s.mvcc().currentRevision);
  gauge('etcd_debugging_mvcc_compact_revision', 'The revision of the last compaction in store.', (s) => s.mvcc().compactRevision);
  gauge('etcd_debugging_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.',
    (s) => s.dbTotalSizeBytes());
  gauge('etcd_debugging_mvcc_watch_stream_total', 'Total number of watch streams.', (s) => s.mvcc().watchStreams);
  gauge('etcd_debugging_mvcc_watcher_total', 'Total number of watchers.', (s) => s.mvcc().watchers);
  gauge('etcd_debugging_mvcc_slow_watcher_total', 'Total number of unsynced slow watchers.', (s) => s.mvcc().slowWatchers);
  counter('etcd_debugging_mvcc_events_total', 'Total number of events sent by this member.', (m) => m.eventsSent);
  return {
    hashSeconds: new Histogram({
      name: 'etcd_mvcc_hash_duration_seconds', help: 'The latency distribution of storage hash operation.', buckets: HASH_BUCKETS, registers,
    }),
    hashRevSeconds: new Histogram({
      name: 'etcd_mvcc_hash_rev_duration_seconds', help: 'The latency distribution of storage hash by revision operation.',
      buckets: HASH_BUCKETS, registers,
    }),
  };
}
