// Reading a gateway request's body, bounded.

import type { IncomingMessage } from 'node:http';

/** The whole body, or null once it passes `maxBytes` (the rest is not kept). */
export function readBody(request: IncomingMessage, maxBytes: number, done: (body: Buffer | null) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  request.on('data', (chunk: Buffer) => {
    if (over) return;
    size += chunk.length;
    if (size > maxBytes) {
      over = true;
      chunks.length = 0;
      done(null);
      return;
    }
    chunks.push(chunk);
  });
  request.once('end', () => { if (!over) done(Buffer.concat(chunks)); });
}
