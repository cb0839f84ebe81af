// Loads Tern's own .proto files for grpc-js: etcd's v3 client API (rpc.proto, with
// mvcc.proto and auth.proto; health.proto; etcd's Lock and Election services,
// v3lock.proto and v3election.proto) and Tern's member-to-member service
// (peer.proto). One set of options for both: snake_case field names as on the wire,
// 64-bit integers as decimal strings (member and cluster ids use all 64 bits), enums
// as their names, defaults filled in.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { isWellFormedMessage } from './wireShape.js';

/** build/net/proto/load.js → net/proto/ (the .proto files are read from the source tree). */
const PROTO_DIR = fileURLToPath(new URL('../../../net/proto/', import.meta.url));

const OPTIONS: protoLoader.Options = {
  includeDirs: [PROTO_DIR], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
};

export interface EtcdServices {
  readonly kv: grpc.ServiceDefinition;
  readonly watch: grpc.ServiceDefinition;
  readonly lease: grpc.ServiceDefinition;
  readonly maintenance: grpc.ServiceDefinition;
  readonly cluster: grpc.ServiceDefinition;
  readonly auth: grpc.ServiceDefinition;
  /** grpc.health.v1.Health */
  readonly health: grpc.ServiceDefinition;
  /** v3lockpb.Lock */
  readonly lock: grpc.ServiceDefinition;
  /** v3electionpb.Election */
  readonly election: grpc.ServiceDefinition;
}

/** The files' services: each by its dotted path (package, then service name). */
function load(files: readonly string[]): (service: string) => grpc.ServiceClientConstructor {
  const root = grpc.loadPackageDefinition(protoLoader.loadSync([...files], OPTIONS));
  return (service) => {
    let node: unknown = root;
    for (const part of service.split('.')) node = (node as grpc.GrpcObject | undefined)?.[part];
    if (node === undefined) throw new Error(`the protos have no service ${service}`);
    return node as grpc.ServiceClientConstructor;
  };
}

/** The service with every method's request checked for well-formed wire bytes before decoding (wireShape.ts). */
function strict(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const methods: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    methods[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        if (!isWellFormedMessage(bytes)) throw new Error(`${method.path}: the request is not a well-formed protobuf message`);
        return method.requestDeserialize(bytes);
      },
    };
  }
  return methods;
}

/**
 * The service with its responses also accepted as bytes already encoded (watch events,
 * Range, Put, DeleteRange, Txn: net/wire/watchEncoding.ts, kvEncoding.ts); objects are
 * encoded by proto-loader.
 */
function preEncodedResponses(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const methods: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    methods[name] = {
      ...method,
      responseSerialize: (value: unknown): Buffer => (Buffer.isBuffer(value) ? value : method.responseSerialize(value)),
    };
  }
  return methods;
}

export function loadEtcdServices(): EtcdServices {
  const client = load(['rpc.proto', 'health.proto', 'v3lock.proto', 'v3election.proto']);
  const service = (path: string): grpc.ServiceDefinition => strict(client(path).service);
  return {
    kv: preEncodedResponses(service('etcdserverpb.KV')),
    watch: preEncodedResponses(service('etcdserverpb.Watch')),
    lease: service('etcdserverpb.Lease'),
    maintenance: service('etcdserverpb.Maintenance'),
    auth: service('etcdserverpb.Auth'),
    health: service('grpc.health.v1.Health'),
    cluster: service('etcdserverpb.Cluster'),
    lock: service('v3lockpb.Lock'),
    election: service('v3electionpb.Election'),
  };
}

let peerCached: grpc.ServiceClientConstructor | null = null;

/** The Peer service's client constructor (its `.service` is the server definition). */
export function peerService(): grpc.ServiceClientConstructor {
  peerCached ??= load(['peer.proto'])('ternpeerpb.Peer');
  return peerCached;
}

/**
 * The Peer service as its server registers it: the Raft stream's requests reach the
 * handler as their bytes, which net/peer/codec.ts reads (the sender writes bytes too).
 */
export function peerServerDefinition(): grpc.ServiceDefinition {
  const definition = peerService().service;
  const stream = definition['Stream'];
  if (stream === undefined) throw new Error('peer.proto has no Stream method');
  return { ...definition, Stream: { ...stream, requestDeserialize: (bytes: Buffer): Buffer => bytes } };
}

let reflectionCached: protobuf.Root | null = null;

/**
 * The same .proto files as protobufjs reflection (message types with their fields in
 * declaration order), for the JSON gateway, which reads and writes messages by their
 * descriptors. Field names as written (keepCase), as proto-loader loads them.
 */
export function etcdReflection(): protobuf.Root {
  if (reflectionCached === null) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(PROTO_DIR, path.basename(target));
    root.loadSync(['rpc.proto', 'v3lock.proto', 'v3election.proto'], { keepCase: true });
    root.resolveAll();
    reflectionCached = root;
  }
  return reflectionCached;
}

let raftInternalCached: protobuf.Type | null = null;

/**
 * etcd's InternalRaftRequest (raft_internal.proto, over rpc.proto's request messages), to
 * read the entries of an etcd WAL (net/etcdData/entries.ts). Field names as written.
 */
export function internalRaftRequestType(): protobuf.Type {
  if (raftInternalCached === null) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(PROTO_DIR, path.basename(target));
    root.loadSync(['raft_internal.proto'], { keepCase: true });
    root.resolveAll();
    raftInternalCached = root.lookupType('etcdserverpb.InternalRaftRequest');
  }
  return raftInternalCached;
}
