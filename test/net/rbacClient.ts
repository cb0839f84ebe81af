// A raw grpc-js client for the RBAC differential: one per server (real etcd or Tern),
// built from the .proto files the Tern server itself loads (net/proto/load.ts), so both
// servers get byte-identical requests. Every answer is either the decoded response or
// the gRPC status (code and message text): the two things the differential compares.
import * as grpc from '@grpc/grpc-js';
import { loadEtcdServices, type EtcdServices } from '../../net/proto/load.js';

export type ServiceName = 'kv' | 'lease' | 'auth' | 'maintenance' | 'cluster';

/** What one call ended with. `body` is the response as proto-loader decodes it (bytes as Buffers). */
export type Answer =
  | { readonly ok: true; readonly body: Record<string, unknown> }
  | { readonly ok: false; readonly code: number; readonly details: string };

/** Per call; generous, as CI is a loaded 2-core box. A timeout shows as DEADLINE_EXCEEDED in the comparison. */
const CALL_TIMEOUT_MS = 60_000;

let services: EtcdServices | null = null;

function definitions(): EtcdServices {
  services ??= loadEtcdServices();
  return services;
}

function metadata(token: string | null): grpc.Metadata {
  const m = new grpc.Metadata();
  // etcd reads the token from the "token" metadata key (clientv3's rpctypes.TokenFieldNameGRPC).
  if (token !== null) m.set('token', token);
  return m;
}

function asAnswer(error: grpc.ServiceError | null, body: unknown): Answer {
  if (error !== null) return { ok: false, code: error.code, details: error.details };
  return { ok: true, body: body as Record<string, unknown> };
}

export class EtcdGrpc {
  private readonly client: grpc.Client;

  constructor(readonly endpoint: string) {
    this.client = new grpc.Client(endpoint, grpc.credentials.createInsecure());
  }

  /** One unary call, as the user whose token is given (null: no token at all). */
  unary(service: ServiceName, method: string, request: object, token: string | null): Promise<Answer> {
    const definition = definitions()[service][method];
    if (definition === undefined || definition.requestStream || definition.responseStream) {
      throw new Error(`${service}.${method} is not a unary method of the protos`);
    }
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        definition.path, definition.requestSerialize, definition.responseDeserialize, request, metadata(token),
        { deadline: Date.now() + CALL_TIMEOUT_MS }, (error, body) => { resolve(asAnswer(error, body)); },
      );
    });
  }

  /**
   * Opens a Watch stream as the user (the server reads the token from the stream's
   * metadata, as etcd does), sends one create request and answers with the first
   * response: created, or created and canceled with the reason. The stream is then
   * canceled, so no watcher outlives the call.
   */
  watchCreate(create: object, token: string | null): Promise<Answer> {
    const definition = definitions().watch.Watch;
    if (definition === undefined) throw new Error('the protos have no Watch.Watch');
    const call = this.client.makeBidiStreamRequest(
      definition.path, definition.requestSerialize, definition.responseDeserialize, metadata(token),
      { deadline: Date.now() + CALL_TIMEOUT_MS },
    );
    return new Promise((resolve) => {
      let settled = false;
      const settle = (answer: Answer): void => {
        if (settled) return;
        settled = true;
        resolve(answer);
        call.cancel();
      };
      call.on('data', (body: unknown) => { settle(asAnswer(null, body)); });
      call.on('error', (error: grpc.ServiceError) => { settle(asAnswer(error, null)); });
      call.on('end', () => { settle({ ok: false, code: grpc.status.UNKNOWN, details: 'the watch stream ended without a response' }); });
      call.write({ create_request: create });
    });
  }

  close(): void {
    this.client.close();
  }
}
