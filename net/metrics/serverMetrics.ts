// etcd 3.4's per-member families beyond Raft and mvcc: the member's id and learner state
// (etcdserver/metrics.go), /health's outcomes (etcdhttp/metrics.go), the lease counts
// (lease/metrics.go, and the server's count of expired leases it revoked), the auth
// store's revision (auth/metrics.go) and the process's file descriptors (etcd's os_fd_*,
// pkg/runtime). Names, help texts and types as etcd's; values read at scrape time from
// plain numbers the core keeps, or counted here.

import { Counter, Gauge, type Registry } from 'prom-client';
import { readdirSync, readFileSync } from 'node:fs';
import type { MetricSources } from './memberMetrics.js';
import { scrapeTimeGauges } from './mvccMetrics.js';

/** Lease counts since this process started (etcd's are process counters too). */
export interface LeaseReadings {
  readonly granted: number;
  readonly revoked: number;
  /** Leader only, as etcd: renewals answered by this member as leader. */
  readonly renewed: number;
  /** Expired leases this member revoked as leader. */
  readonly expired: number;
}

export interface ServerCounters {
  readonly healthSuccess: Counter;
  readonly healthFailures: Counter;
}

/** Open descriptors of this process, as Go's procfs counts them (entries of /proc/self/fd); 0 where there is no /proc. */
function fdsUsed(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

/** The soft limit on open files (/proc/self/limits); 0 where unknown. */
function fdLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.slice('Max open files'.length).trim().split(/\s+/)[0]);
    return Number.isFinite(soft) ? soft : 0;
  } catch {
    return 0;
  }
}

export function registerServerMetrics(registry: Registry, current: () => MetricSources | null): ServerCounters {
  const registers = [registry];
  const gauge = scrapeTimeGauges(registry, current);
  new Gauge({
    name: 'etcd_server_id', help: "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
    labelNames: ['server_id'], registers,
    collect() {
      const sources = current();
      this.reset();
      if (sources !== null) this.set({ server_id: sources.serverId() }, 1);
    },
  });
  gauge('etcd_server_is_learner', 'Whether or not this member is a learner. 1 if is, 0 otherwise.', (s) => (s.isLearner() ? 1 : 0));
  gauge('etcd_debugging_auth_revision', 'The current revision of auth store.', (s) => s.authRevision());
  const counter = (name: string, help: string, read: (l: LeaseReadings) => number): void => {
    new Counter({
      name, help, registers,
      collect() {
        const sources = current();
        this.reset();
        const value = sources === null ? 0 : read(sources.leases());
        if (value > 0) this.inc(value);
      },
    });
  };
  counter('etcd_debugging_lease_granted_total', 'The total number of granted leases.', (l) => l.granted);
  counter('etcd_debugging_lease_revoked_total', 'The total number of revoked leases.', (l) => l.revoked);
  counter('etcd_debugging_lease_renewed_total', 'The number of renewed leases seen by the leader.', (l) => l.renewed);
  counter('etcd_debugging_server_lease_expired_total', 'The total number of expired leases.', (l) => l.expired);
  new Gauge({ name: 'os_fd_used', help: 'The number of used file descriptors.', registers, collect() { this.set(fdsUsed()); } });
  new Gauge({ name: 'os_fd_limit', help: 'The file descriptor limit.', registers, collect() { this.set(fdLimit()); } });
  return {
    healthSuccess: new Counter({ name: 'etcd_server_health_success', help: 'The total number of successful health checks', registers }),
    healthFailures: new Counter({ name: 'etcd_server_health_failures', help: 'The total number of failed health checks', registers }),
  };
}
