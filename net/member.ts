// One Tern member on real ports: node timers tick the core, crypto draws the election
// jitter, the wall clock times leases, grpc-js serves etcd's API. This is the
// production counterpart of sim/cluster.ts: the same EtcdServer and NodeDriver.

import * as grpc from '@grpc/grpc-js';
import { randomInt } from 'node:crypto';
import { MemoryLogStore } from '../core/node/memoryLogStore.js';
import type { LogStore } from '../core/node/ports.js';
import { EtcdServer } from '../core/server/server.js';
import { clusterId, memberId } from './ids.js';
import { addEtcdServices, singleMemberContext } from './services.js';

/** How long stop() lets calls in flight finish before canceling what is left. */
const STOP_GRACE_MS = 500;

export interface MemberOptions {
  readonly name: string;
  /** host:port pairs to serve clients on. */
  readonly clientAddresses: readonly string[];
  readonly peerUrls: readonly string[];
  readonly clusterToken: string;
  readonly heartbeatMs: number;
  readonly electionMs: number;
  /** Where the Raft log lives; a volatile in-memory store if absent. */
  readonly logStore?: LogStore;
}

export class Member {
  readonly ids: { readonly memberId: string; readonly clusterId: string };
  private readonly server: EtcdServer;
  private readonly grpcServer = new grpc.Server();
  private readonly timer: NodeJS.Timeout;

  private constructor(server: EtcdServer, ids: { memberId: string; clusterId: string }, heartbeatMs: number) {
    this.server = server;
    this.ids = ids;
    this.timer = setInterval(() => { server.tick(); }, heartbeatMs);
  }

  static async start(options: MemberOptions): Promise<Member> {
    const member = memberId(options.peerUrls, options.clusterToken);
    const ids = { memberId: member.toString(), clusterId: clusterId([member]).toString() };
    const started = EtcdServer.start(
      {
        // The core's Raft id: a single member is 1; multi-member id mapping comes with the peer transport.
        id: 1, initialVoters: [1], clusterId: 0, tickMs: options.heartbeatMs,
        heartbeatTicks: 1, electionTicks: Math.max(2, Math.round(options.electionMs / options.heartbeatMs)),
      },
      {
        logStore: options.logStore ?? new MemoryLogStore(),
        transport: { send: () => undefined }, // no peers yet
        random: { intBelow: (bound) => randomInt(bound) },
        clock: { nowMs: () => Date.now() },
      },
    );
    if ('kind' in started) throw new Error(`cannot start: ${started.kind}: ${started.detail}`);
    // etcd's --initial-election-tick-advance: a fresh member fast-forwards its election
    // clock, so that a single member (or a cluster starting together) elects at once.
    const electionTicks = Math.max(2, Math.round(options.electionMs / options.heartbeatMs));
    for (let i = 0; i < electionTicks - 1; i++) started.tick();
    const m = new Member(started, ids, options.heartbeatMs);
    addEtcdServices(m.grpcServer, singleMemberContext(started, ids, options.electionMs));
    for (const address of options.clientAddresses) await m.bind(address);
    return m;
  }

  private bind(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.grpcServer.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
        if (error !== null) reject(error);
        else resolve(port);
      });
    });
  }

  isLeader(): boolean {
    return this.server.driver.status().role === 'leader';
  }

  /** Stops serving and ticking; pending calls end with UNAVAILABLE. */
  stop(): Promise<void> {
    clearInterval(this.timer);
    this.server.driver.stop();
    return new Promise((resolve) => {
      // Watch and keep-alive streams stay open until their clients end them, so a
      // graceful shutdown alone could wait forever: after a grace period, cancel them.
      const force = setTimeout(() => { this.grpcServer.forceShutdown(); }, STOP_GRACE_MS);
      this.grpcServer.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
