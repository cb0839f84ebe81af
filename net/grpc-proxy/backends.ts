// The members a gRPC proxy forwards to: one grpc-js channel per endpoint, and the choice
// of member for each new call. Calls go to one member while its channel works (as
// clientv3's pinned endpoint), and move on to the next whose channel is not failing.

import * as grpc from '@grpc/grpc-js';
import { invariant } from '../../core/util/invariant.js';

/** Endpoints one proxy forwards to (etcd clusters have 1–7 members; a list this long is a mistake). */
export const MAX_ENDPOINTS = 64;

export interface BackendOptions {
  readonly endpoints: readonly string[];
  readonly credentials: grpc.ChannelCredentials;
  /** Largest request sent to a member, and largest answer taken from one (--max-send-bytes, --max-recv-bytes). */
  readonly maxSendBytes: number;
  readonly maxRecvBytes: number;
}

export class Backends {
  private readonly clients: grpc.Client[];
  private current = 0;

  constructor(readonly options: BackendOptions) {
    invariant(options.endpoints.length >= 1 && options.endpoints.length <= MAX_ENDPOINTS, () => `1 to ${MAX_ENDPOINTS} endpoints, got ${options.endpoints.length}`);
    const channelOptions: grpc.ChannelOptions = {
      'grpc.max_send_message_length': options.maxSendBytes,
      'grpc.max_receive_message_length': options.maxRecvBytes,
      // etcd members ask clients not to ping more often than every 5 s.
      'grpc.keepalive_time_ms': 30_000,
    };
    this.clients = options.endpoints.map((endpoint) => new grpc.Client(endpoint, options.credentials, channelOptions));
  }

  get endpoints(): readonly string[] {
    return this.options.endpoints;
  }

  /** The member for a new call: the current one unless its channel is failing, else the next that is not. */
  pick(): grpc.Client {
    const n = this.clients.length;
    for (let i = 0; i < n; i++) {
      const index = (this.current + i) % n;
      const client = this.clients[index];
      invariant(client !== undefined, 'a backend per endpoint');
      const state = client.getChannel().getConnectivityState(true);
      if (state !== grpc.connectivityState.TRANSIENT_FAILURE && state !== grpc.connectivityState.SHUTDOWN) {
        this.current = index;
        return client;
      }
    }
    // Every member unreachable: the call fails as a client's would (UNAVAILABLE).
    const client = this.clients[this.current];
    invariant(client !== undefined, 'a backend per endpoint');
    return client;
  }

  /** A call on `failed` never reached its member: the next call tries the next one. */
  passOver(failed: grpc.Client): void {
    const index = this.clients.indexOf(failed);
    if (index === this.current) this.current = (index + 1) % this.clients.length;
  }

  close(): void {
    for (const client of this.clients) client.close();
  }
}
