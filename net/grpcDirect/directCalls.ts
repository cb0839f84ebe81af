// The hot calls served straight off node:http2, without grpc-js's per-call machinery:
// its intercepting-call chain (two interceptors, each with builders and listeners per
// call), its stream wrappers and its queues. Bypassing it took ~22% off a member's CPU
// per put under put c=256 (docs/bench.md, session 21). Served here: KV Range, Put, DeleteRange and Txn (unaryCall.ts) and
// Watch (watchCall.ts); everything else stays on grpc-js.
//
// What a client sees must be what grpc-js would have sent: the same response headers,
// length-prefixed messages and trailers, the same codes and texts for every error
// grpc-js itself produces. The handlers are the very ones registered with grpc-js, over
// the same (counting, strict) definitions. A call of any other shape — not gRPC's
// content type, a compressed request, an unparsable deadline, a member that is a
// learner — is left to grpc-js, which answers it as it always did. test/net/grpcDirect
// compares both paths on the wire.

import type * as http2 from 'node:http2';
import { invariant } from '../../core/util/invariant.js';
import type { GrpcCallMetrics } from '../metrics/grpcMetrics.js';
import type { CallStart } from './callBase.js';
import { DirectUnaryCall, type DirectMethod } from './unaryCall.js';
import { DirectWatchCall, WATCH_PATH, type DirectWatch } from './watchCall.js';

export interface DirectCallsOptions {
  readonly unary: ReadonlyMap<string, DirectMethod>;
  readonly watch: DirectWatch;
  /** grpc-js's grpc.max_receive_message_length for the same server. */
  readonly maxReceiveBytes: number;
  readonly calls: GrpcCallMetrics;
  /** While true, every call goes to grpc-js (a learner's calls must pass its guard there). */
  readonly leaveToGrpc: () => boolean;
}

// grpc-js's deadline header syntax and units (server-interceptors.js).
const DEADLINE_PATTERN = /(\d{1,8})\s*([HMSmun])/;
const DEADLINE_UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

export class DirectCalls {
  /** Calls served here so far (not left to grpc-js). */
  served = 0;

  constructor(private readonly options: DirectCallsOptions) {
    invariant(options.maxReceiveBytes > 0, 'the receive limit must be positive');
  }

  /** A 'stream' listener's first look (takeover.ts): serves a well-formed call of a direct method, else returns false. */
  readonly serve = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): boolean => {
    const path = headers[':path'] ?? '';
    const unary = this.options.unary.get(path);
    if (unary === undefined && path !== WATCH_PATH) return false;
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) return false;
    const encoding = headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity') return false;
    const timeout = headers['grpc-timeout'];
    let timeoutMs: number | null = null;
    if (timeout !== undefined) {
      const match = typeof timeout === 'string' ? DEADLINE_PATTERN.exec(timeout) : null;
      if (match === null) return false;
      timeoutMs = (Number(match[1]) * (DEADLINE_UNIT_MS[match[2] ?? ''] ?? 0)) | 0;
    }
    if (this.options.leaveToGrpc()) return false;
    this.served++;
    const { maxReceiveBytes, calls } = this.options;
    if (unary !== undefined) {
      const start: CallStart = { stream, headers, shape: unary.shape, deserialize: unary.deserialize, serialize: unary.serialize, maxReceiveBytes, calls, timeoutMs };
      new DirectUnaryCall(start, unary).start();
    } else {
      const watch = this.options.watch;
      new DirectWatchCall({ stream, headers, shape: watch.shape, deserialize: watch.deserialize, serialize: watch.serialize, maxReceiveBytes, calls, timeoutMs }, watch).start();
    }
    return true;
  };
}
