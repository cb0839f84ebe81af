// A small cluster of EtcdServers over in-memory ports, for the server's own tests:
// writes complete at once, the network delivers when told, the clock moves with ticks.

import type { Message, NodeId } from '../../core/raft/types.js';
import { MemoryLogStore } from '../../core/node/memoryLogStore.js';
import { isEtcdError, type EtcdError } from '../../core/errors.js';
import { EtcdServer, type Reply, type ServerConfig } from '../../core/server/server.js';
import { TestRandom } from '../raft/harness.js';

export class ServerCluster {
  readonly servers = new Map<NodeId, EtcdServer>();
  readonly disks = new Map<NodeId, MemoryLogStore>();
  readonly down = new Set<NodeId>();
  /** Members up but cut off: nothing they send or are sent is delivered. */
  readonly isolated = new Set<NodeId>();
  private queue: Message[] = [];
  /** Every message sent, when a test asks for them (`recordSent`). */
  readonly sent: Message[] = [];
  recordSent = false;
  /** With `hostFlushesReads`: the members that asked for a flush of waiting reads, in order. */
  readonly flushesAsked: NodeId[] = [];
  nowMs = 0;
  readonly tickMs = 100;

  /** `options`: server settings beyond the cluster's own (ids, timing). */
  /** `hostFlushesReads`: linearizable reads wait for the test's flushReads(), as under the gRPC host. */
  constructor(
    readonly ids: readonly NodeId[],
    private readonly options: Partial<Omit<ServerConfig, 'id' | 'initialVoters'>> = {},
    private readonly hostFlushesReads = false,
  ) {
    for (const id of ids) {
      this.disks.set(id, new MemoryLogStore());
      this.start(id);
    }
  }

  start(id: NodeId): EtcdServer {
    const disk = this.disks.get(id);
    if (disk === undefined) throw new Error(`no disk for ${id}`);
    const server = EtcdServer.start(
      { clusterId: 99, tickMs: this.tickMs, electionTicks: 10, heartbeatTicks: 1, ...this.options, id, initialVoters: this.ids },
      {
        logStore: disk,
        transport: { send: (m) => { this.queue.push(m); if (this.recordSent) this.sent.push(m); } },
        random: new TestRandom(id),
        clock: { nowMs: () => this.nowMs },
        ...(this.hostFlushesReads ? { readsWaiting: () => { this.flushesAsked.push(id); } } : {}),
      },
    );
    if ('kind' in server) throw new Error(server.detail);
    this.servers.set(id, server);
    this.down.delete(id);
    return server;
  }

  crash(id: NodeId): void {
    this.servers.get(id)?.driver.stop();
    this.down.add(id);
  }

  get(id: NodeId): EtcdServer {
    const s = this.servers.get(id);
    if (s === undefined) throw new Error(`no server ${id}`);
    return s;
  }

  deliver(): void {
    for (let rounds = 0; this.queue.length > 0; rounds++) {
      if (rounds > 10_000) throw new Error('network never quiet');
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) {
        if (this.down.has(m.to) || this.down.has(m.from) || this.isolated.has(m.to) || this.isolated.has(m.from)) continue;
        this.servers.get(m.to)?.driver.receive(m);
      }
    }
  }

  /** Advances time by `ticks` ticks, delivering messages after each. */
  run(ticks: number): void {
    for (let i = 0; i < ticks; i++) {
      this.nowMs += this.tickMs;
      for (const [id, s] of this.servers) if (!this.down.has(id)) s.tick();
      this.deliver();
    }
  }

  leader(): EtcdServer | undefined {
    return [...this.servers.entries()].find(([id, s]) => !this.down.has(id) && s.driver.status().role === 'leader')?.[1];
  }

  /** Runs until there is a leader. */
  elect(): EtcdServer {
    for (let i = 0; i < 200; i++) {
      const l = this.leader();
      if (l !== undefined) return l;
      this.run(1);
    }
    throw new Error('no leader elected');
  }
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Calls a server method and runs the cluster until its reply arrives. */
export function call<Req, T>(cluster: ServerCluster, method: (request: Req, reply: Reply<T>) => void, request: Req): Parameters<Reply<T>>[0] {
  let result: Parameters<Reply<T>>[0] | undefined;
  method(request, (r) => { result = r; });
  for (let i = 0; i < 100 && result === undefined; i++) cluster.run(1);
  if (result === undefined) throw new Error('no reply');
  return result;
}

/** The answer, or the test fails with the etcd error's text. */
export function ok<T>(result: T | EtcdError): T {
  if (isEtcdError(result)) throw new Error(result.message);
  return result;
}
