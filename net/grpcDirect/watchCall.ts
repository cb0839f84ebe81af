// etcd's Watch served directly (directCalls.ts): one bidirectional stream as a
// WatchChannel of the Watch service (services/watch.ts). Requests are decoded by the
// method's registered deserializer as they arrive; responses are framed by its
// serializer. The responses one hub delivery brings (one per watcher of the stream
// that an applied batch touched) leave in one write: the stream is corked until the
// end of the current tick, where grpc-js writes each as its own message.

import type { EtcdError } from '../../core/errors.js';
import * as grpc from '@grpc/grpc-js';
import process from 'node:process';
import type { MethodShape } from '../metrics/grpcMetrics.js';
import type { WatchOpener, WatchStreamEvents } from '../services/watch.js';
import type { Wire } from '../wire/message.js';
import { grpcError } from '../wire/status.js';
import { DirectCallBase, type CallStart } from './callBase.js';

export const WATCH_PATH = '/etcdserverpb.Watch/Watch';

/** The Watch method as registered with grpc-js, and the service's opener. */
export interface DirectWatch {
  readonly shape: MethodShape;
  readonly deserialize: (bytes: Buffer) => unknown;
  readonly serialize: (value: unknown) => Buffer;
  readonly open: WatchOpener;
}

export class DirectWatchCall extends DirectCallBase {
  private events: WatchStreamEvents | null = null;
  private corked = false;

  constructor(start: CallStart, private readonly watch: DirectWatch) {
    super(start);
  }

  protected began(): void {
    this.stream.on('drain', () => { this.events?.drained(); });
    try {
      this.events = this.open();
    } catch (error) {
      this.handlerThrew(error);
    }
  }

  private open(): WatchStreamEvents {
    return this.watch.open({
      caller: this,
      send: (response) => { this.send(response); },
      backedUp: () => this.stream.writableNeedDrain,
      end: () => { this.endWith({ code: grpc.status.OK, details: 'OK', metadata: null }); },
      fail: (e) => { this.fail(e); },
    });
  }

  protected received(request: unknown): void {
    try {
      this.events?.request(request as Wire);
    } catch (error) {
      this.handlerThrew(error); // grpc-js would leave it uncaught: no request ends a member
    }
  }

  protected halfClosed(): void {
    this.events?.halfClosed();
  }

  protected gone(): void {
    this.events?.gone();
  }

  private send(response: Buffer | Wire): void {
    if (this.isEnded()) return;
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      process.nextTick(() => {
        this.corked = false;
        this.stream.uncork();
      });
    }
    this.sendMessage(response);
  }

  /** failStream's status: etcd's error, as grpc-js sends a handler's error event. */
  private fail(e: EtcdError): void {
    const status = grpcError(e);
    this.endWith({ code: status.code ?? grpc.status.UNKNOWN, details: status.details ?? e.message, metadata: null });
  }
}
