// etcd's monitorLeader: streams opened with `hasleader` (clientv3's WithRequireLeader —
// etcdctl watch, lease keep-alive) are canceled with `no leader` once the member has
// known no leader for 3 election timeouts in a row. Reconnecting streams costs more than
// refusing new requests, hence the patience.

import type { EtcdServer } from '../../core/server/server.js';
import { hasLeader } from './context.js';

/** Election timeouts without a leader before leader-requiring streams are canceled (etcd's maxNoLeaderCnt). */
const MAX_NO_LEADER_COUNT = 3;

export class LeaderMonitor {
  private readonly streams = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private noLeaderCount = 0;

  constructor(private readonly server: EtcdServer, private readonly electionMs: number) {}

  /** Watches over a stream until `release` is called; `cancel` ends it with `no leader`. */
  track(cancel: () => void): () => void {
    this.streams.add(cancel);
    if (this.timer === null) {
      this.noLeaderCount = 0;
      this.timer = setInterval(() => { this.check(); }, this.electionMs);
      this.timer.unref(); // never the reason the process stays up
    }
    return () => {
      this.streams.delete(cancel);
      if (this.streams.size === 0 && this.timer !== null) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  private check(): void {
    this.noLeaderCount = hasLeader(this.server) ? 0 : this.noLeaderCount + 1;
    if (this.noLeaderCount < MAX_NO_LEADER_COUNT) return;
    for (const cancel of [...this.streams]) cancel();
  }
}
