// One unary call served directly (directCalls.ts): its one request message decoded by
// the method's registered deserializer, its registered handler, its answer framed, and
// every error grpc-js itself would send for a unary call (no message, two messages).

import * as grpc from '@grpc/grpc-js';
import { invariant } from '../../core/util/invariant.js';
import type { MethodShape } from '../metrics/grpcMetrics.js';
import type { CallerView } from '../services/context.js';
import { DirectCallBase, statusOf, type CallStart } from './callBase.js';

/** What a unary handler registered by Tern reads of its call: the request and what credentialsOf reads. */
export interface UnaryCallView extends CallerView {
  readonly request: unknown;
  readonly cancelled: boolean;
  getPeer(): string;
  getDeadline(): number;
  getPath(): string;
}

export type DirectCallback = (error: unknown, value?: unknown) => void;
export type DirectHandler = (call: UnaryCallView, callback: DirectCallback) => void;

/** A unary method the direct path serves: its definition's (de)serializers and its handler, as registered with grpc-js. */
export interface DirectMethod {
  readonly shape: MethodShape;
  readonly deserialize: (bytes: Buffer) => unknown;
  readonly serialize: (value: unknown) => Buffer;
  readonly handler: DirectHandler;
}

/** The KV methods served directly as unary calls. */
export const DIRECT_UNARY_PATHS: ReadonlySet<string> = new Set([
  '/etcdserverpb.KV/Range', '/etcdserverpb.KV/Put', '/etcdserverpb.KV/DeleteRange', '/etcdserverpb.KV/Txn',
]);

/**
 * The direct unary paths among a service's methods, over the definition and handlers
 * exactly as they are registered with grpc-js (so counting, strict decoding and size
 * limits stay).
 */
export function directMethods(definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): [string, DirectMethod][] {
  const methods: [string, DirectMethod][] = [];
  for (const [name, method] of Object.entries(definition)) {
    if (!DIRECT_UNARY_PATHS.has(method.path)) continue;
    invariant(!method.requestStream && !method.responseStream, () => `${method.path} is not unary`);
    methods.push([method.path, {
      shape: method, deserialize: method.requestDeserialize, serialize: method.responseSerialize, handler: directHandler(handlers[name]),
    }]);
  }
  return methods;
}

/**
 * Tern's unary handlers take only a UnaryCallView (context.ts's `unary`, requestLimit.ts);
 * grpc-js types them over its full call object. This is the one place that relies on it.
 */
function directHandler(handler: grpc.UntypedHandleCall | undefined): DirectHandler {
  invariant(typeof handler === 'function', 'a direct method needs its unary handler');
  return handler as unknown as DirectHandler;
}

export class DirectUnaryCall extends DirectCallBase implements UnaryCallView {
  /** The decoded request, once its message arrived. */
  request: unknown = undefined;
  private messages = 0;

  constructor(start: CallStart, private readonly method: DirectMethod) {
    super(start);
  }

  protected began(): void {
    // A unary call waits for its message and the client's half-close.
  }

  protected received(request: unknown): void {
    if (++this.messages > 1) {
      this.endWith({ code: grpc.status.UNIMPLEMENTED, details: `Received a second request message for server streaming method ${this.path}`, metadata: null });
      return;
    }
    this.request = request;
  }

  protected halfClosed(): void {
    if (this.messages === 0) {
      this.endWith({ code: grpc.status.UNIMPLEMENTED, details: `Received no request message for server streaming method ${this.path}`, metadata: null });
      return;
    }
    try {
      this.method.handler(this, (error, value) => { this.answer(error, value); });
    } catch (error) {
      this.handlerThrew(error);
    }
  }

  protected gone(): void {
    // The handler's answer, if it comes later, is dropped (isEnded).
  }

  private answer(error: unknown, value: unknown): void {
    const failed = error !== null && error !== undefined;
    if (this.isEnded()) {
      // Too late for the client (it left, or the deadline passed), but counted as grpc-js's
      // interceptor counts a late answer: a message sent, or a status (a failed proposal).
      if (failed) {
        const status = statusOf(error);
        this.count?.status(status.code, status.details);
      } else {
        this.count?.sent();
      }
      return;
    }
    if (failed) {
      this.endWith(statusOf(error));
      return;
    }
    if (this.sendMessage(value)) this.endWith({ code: grpc.status.OK, details: 'OK', metadata: null });
  }
}
