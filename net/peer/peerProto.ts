// Loads net/proto/peer.proto (Tern's member-to-member service) for grpc-js.
// Same options as the client API (protos.ts): 64-bit integers as decimal strings —
// member ids use all 64 bits — enums as names, defaults filled in.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

const PROTO_DIR = fileURLToPath(new URL('../../../net/proto/', import.meta.url));

let cached: grpc.ServiceClientConstructor | null = null;

/** The Peer service's client constructor (its `.service` is the server definition). */
export function peerService(): grpc.ServiceClientConstructor {
  if (cached !== null) return cached;
  const definition = protoLoader.loadSync(['peer.proto'], {
    includeDirs: [PROTO_DIR], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition)['ternpeerpb'] as grpc.GrpcObject;
  cached = pkg['Peer'] as grpc.ServiceClientConstructor;
  return cached;
}

/**
 * Raft messages carry snapshots (the whole key-value state): lift grpc-js's 4 MiB
 * default for peer traffic. And keep grpc-js's own reconnection backoff (1 s growing
 * to 120 s by default) within an election timeout: a peer that comes back must hear
 * heartbeats at once, or it campaigns needlessly, or a new member waits minutes to join.
 */
export const PEER_CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': 1 << 30,
  'grpc.max_send_message_length': 1 << 30,
  'grpc.initial_reconnect_backoff_ms': 50,
  'grpc.max_reconnect_backoff_ms': 500,
} as const;
