// etcd_network_client_grpc_received_bytes_total / _sent_bytes_total: etcd adds the
// protobuf size of every message its client-port gRPC server decodes or encodes (a
// 10-byte value put under a 1-byte key: 15 bytes in; an empty StatusRequest: 0). Here
// the service definitions' (de)serializers are wrapped, which see exactly those bytes.

import type * as grpc from '@grpc/grpc-js';
import { Counter, type Registry } from 'prom-client';

export interface ByteCounters {
  readonly received: Counter;
  readonly sent: Counter;
}

export function byteCounters(registry: Registry): ByteCounters {
  const registers = [registry];
  return {
    received: new Counter({
      name: 'etcd_network_client_grpc_received_bytes_total', help: 'The total number of bytes received from grpc clients.', registers,
    }),
    sent: new Counter({ name: 'etcd_network_client_grpc_sent_bytes_total', help: 'The total number of bytes sent to grpc clients.', registers }),
  };
}

/** `definition` with every method counting the bytes of the messages it decodes and encodes. */
export function countingBytes(definition: grpc.ServiceDefinition, counters: ByteCounters): grpc.ServiceDefinition {
  const counted: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    counted[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        counters.received.inc(bytes.length);
        return method.requestDeserialize(bytes);
      },
      responseSerialize: (value: unknown): Buffer => {
        const bytes = method.responseSerialize(value);
        counters.sent.inc(bytes.length);
        return bytes;
      },
    };
  }
  return counted;
}
