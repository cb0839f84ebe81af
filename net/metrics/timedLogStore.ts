// etcd_disk_wal_fsync_duration_seconds for the LMDB log store: a LogStore that times
// each synced write from the call to its completion (the store calls back once the
// transaction is flushed to disk). Writes that need no sync are not counted, as etcd
// counts only its fsyncs.

import type { LogStore } from '../../core/node/ports.js';

export function timedLogStore(inner: LogStore, observeSeconds: (seconds: number) => void): LogStore {
  return {
    recover: () => inner.recover(),
    compact: (snapshot, done) => { inner.compact(snapshot, done); },
    write: (request, done) => {
      if (!request.mustSync) {
        inner.write(request, done);
        return;
      }
      const startedMs = performance.now();
      inner.write(request, (result) => {
        if (result.kind === 'ok') observeSeconds((performance.now() - startedMs) / 1000);
        done(result);
      });
    },
  };
}
