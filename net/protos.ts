// Loads Tern's own .proto files (etcd's v3 API names and field numbers) for grpc-js.
// Options: snake_case field names as on the wire, 64-bit integers as decimal strings
// (member and cluster ids use all 64 bits), enums as their names, defaults filled in.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

/** build/net/protos.js → net/proto/ (the .proto files are read from the source tree). */
const PROTO_DIR = fileURLToPath(new URL('../../net/proto/', import.meta.url));

export interface EtcdServices {
  readonly kv: grpc.ServiceDefinition;
  readonly watch: grpc.ServiceDefinition;
  readonly lease: grpc.ServiceDefinition;
  readonly maintenance: grpc.ServiceDefinition;
  readonly cluster: grpc.ServiceDefinition;
  readonly auth: grpc.ServiceDefinition;
  /** grpc.health.v1.Health */
  readonly health: grpc.ServiceDefinition;
}

export function loadEtcdServices(): EtcdServices {
  const definition = protoLoader.loadSync(['rpc.proto', 'health.proto'], {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const root = grpc.loadPackageDefinition(definition);
  const service = (path: string): grpc.ServiceDefinition => {
    let node: unknown = root;
    for (const part of path.split('.')) node = (node as grpc.GrpcObject | undefined)?.[part];
    const ctor = node as grpc.ServiceClientConstructor | undefined;
    if (ctor === undefined) throw new Error(`the protos have no service ${path}`);
    return ctor.service;
  };
  return {
    kv: service('etcdserverpb.KV'),
    watch: service('etcdserverpb.Watch'),
    lease: service('etcdserverpb.Lease'),
    maintenance: service('etcdserverpb.Maintenance'),
    auth: service('etcdserverpb.Auth'),
    health: service('grpc.health.v1.Health'),
    cluster: service('etcdserverpb.Cluster'),
  };
}
