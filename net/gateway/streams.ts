// The gateway's streaming RPCs (Watch, LeaseKeepAlive, Snapshot).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Binding } from './gateway.js';
import { sendRefusal } from './replies.js';

export function serveStream(binding: Binding, request: IncomingMessage, response: ServerResponse): void {
  request.resume();
  sendRefusal(response, { code: 12, message: `tern: the gateway does not stream ${binding.route.grpcPath} yet` });
}
