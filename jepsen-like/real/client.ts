// A plain gRPC client of etcd's v3 API (Tern's own .proto files): no retries, one
// deadline per call, so that what the history records is exactly what one request saw.

import * as grpc from '@grpc/grpc-js';
import { loadEtcdServices } from '../../net/proto/load.js';
import type { KeyValue } from '../etcd/types.js';

export type Wire = Readonly<Record<string, unknown>>;
type Callback = (error: grpc.ServiceError | null, response?: Wire) => void;
type Unary = (request: Wire, options: grpc.CallOptions, callback: Callback) => void;

interface Stubs {
  readonly kv: grpc.Client & Record<'Range' | 'Put' | 'DeleteRange' | 'Txn' | 'Compact', Unary>;
  readonly lease: grpc.Client & Record<'LeaseGrant' | 'LeaseRevoke', Unary> & { LeaseKeepAlive(): grpc.ClientDuplexStream<Wire, Wire> };
  readonly maintenance: grpc.Client & Record<'Status' | 'HashKV' | 'Defragment', Unary>;
  readonly watch: grpc.Client & { Watch(): grpc.ClientDuplexStream<Wire, Wire> };
  readonly lock: grpc.Client & Record<'Lock' | 'Unlock', Unary>;
  readonly cluster: grpc.Client & Record<'MemberAdd' | 'MemberRemove' | 'MemberList' | 'MemberPromote', Unary>;
}

let services: ReturnType<typeof loadEtcdServices> | null = null;

const CHANNEL_OPTIONS = { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500, 'grpc.enable_retries': 0 };

/** A failed call: its gRPC status and etcd's message. */
export class CallError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
  }
}

export class EtcdClient {
  private readonly stubs: Stubs;

  constructor(readonly endpoint: string, private readonly timeoutMs: number) {
    services ??= loadEtcdServices();
    const make = (definition: grpc.ServiceDefinition, name: string): grpc.Client => {
      const Ctor = grpc.makeGenericClientConstructor(definition, name);
      return new Ctor(endpoint, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    };
    this.stubs = {
      kv: make(services.kv, 'KV') as Stubs['kv'],
      lease: make(services.lease, 'Lease') as Stubs['lease'],
      maintenance: make(services.maintenance, 'Maintenance') as Stubs['maintenance'],
      watch: make(services.watch, 'Watch') as Stubs['watch'],
      lock: make(services.lock, 'Lock') as Stubs['lock'],
      cluster: make(services.cluster, 'Cluster') as Stubs['cluster'],
    };
  }

  /** One unary call; rejects with a CallError. */
  call(service: 'kv' | 'lease' | 'maintenance' | 'lock' | 'cluster', method: string, request: Wire, timeoutMs = this.timeoutMs): Promise<Wire> {
    const stub = this.stubs[service] as unknown as Record<string, Unary | undefined>;
    const fn = stub[method];
    if (fn === undefined) throw new Error(`no method ${service}.${method}`);
    return new Promise((resolve, reject) => {
      fn.call(stub, request, { deadline: Date.now() + timeoutMs }, (error, response) => {
        if (error !== null) reject(new CallError(error.code, error.details || error.message));
        else resolve(response ?? {});
      });
    });
  }

  keepAliveStream(): grpc.ClientDuplexStream<Wire, Wire> {
    return this.stubs.lease.LeaseKeepAlive();
  }

  watchStream(): grpc.ClientDuplexStream<Wire, Wire> {
    return this.stubs.watch.Watch();
  }

  close(): void {
    this.stubs.watch.close();
    this.stubs.kv.close();
    this.stubs.lease.close();
    this.stubs.maintenance.close();
    this.stubs.lock.close();
    this.stubs.cluster.close();
  }
}

export const bytes = (text: string): Buffer => Buffer.from(text);
const text = (b: unknown): string => (Buffer.isBuffer(b) ? b.toString() : typeof b === 'string' ? b : '');
export const num = (v: unknown): number => Number(v ?? 0);

/** The header revision of a response. */
export function revisionOf(response: Wire): number {
  return num((response['header'] as Wire | undefined)?.['revision']);
}

/**
 * A wire KeyValue in the checker's form. Lease ids are 64-bit and the history's are safe
 * integers: `leaseAlias` maps a real id (decimal text) to its number in the history.
 */
export function keyValue(x: unknown, leaseAlias: (id: string) => number = Number): KeyValue {
  const kv = (x ?? {}) as Wire;
  const lease = typeof kv['lease'] === 'string' ? kv['lease'] : '0';
  return {
    key: text(kv['key']), value: text(kv['value']), createRevision: num(kv['create_revision']),
    modRevision: num(kv['mod_revision']), version: num(kv['version']), lease: lease === '0' ? 0 : leaseAlias(lease),
  };
}

/** A member's status: its id, the leader it knows (0: none), its revision. */
export interface MemberStatus {
  readonly memberId: string;
  readonly leader: string;
  readonly revision: number;
  readonly raftTerm: number;
}

export async function statusOf(client: EtcdClient, timeoutMs = 1000): Promise<MemberStatus | null> {
  try {
    const r = await client.call('maintenance', 'Status', {}, timeoutMs);
    const header = (r['header'] ?? {}) as Wire;
    const id = (v: unknown): string => (typeof v === 'string' ? v : '0'); // 64-bit ids come as decimal strings
    return { memberId: id(header['member_id']), leader: id(r['leader']), revision: num(header['revision']), raftTerm: num(r['raft_term'] ?? header['raft_term']) };
  } catch {
    return null;
  }
}
