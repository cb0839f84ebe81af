// WatchResponse encoded straight to protobuf bytes, for the watch stream's hot path.
//
// Why by hand: a watch event went through a wire object (int64 fields as decimal
// strings, keys and values copied into Buffers), then proto-loader's fromObject (which
// parses each decimal string back with Long.fromString) and its reflective encoder.
// Measured with 100 watchers (docs/bench.md, "Watch events encoded by hand"), that path
// was the largest part of Tern's server CPU per event delivered. Refusals on the watch
// stream keep the proto-loader path (net/services/watch.ts).
//
// test/net/wire/watchEncoding.test.ts decodes the bytes with proto-loader and compares
// them with the object path.
//
//   WatchResponse  1 header  2 watch_id  3 created  4 canceled  5 compact_revision
//                  6 cancel_reason  7 fragment  11 events (repeated)
//   Event          1 type (DELETE = 1)  2 kv  3 prev_kv

import type { WatchEvent, WatchResponse } from '../../core/watch/watchHub.js';
import { invariant } from '../../core/util/invariant.js';
import {
  headerFieldSize, int64Size, keyValueFieldSize, varintSize, writeBool, writeBytesField, writeHeader, writeInt64Field,
  writeKeyValue, writeVarint, type HeaderIds, type HeaderNumbers,
} from './protoWriter.js';

/** The response as protobuf bytes; `header` gives the header's revision and term. */
export function encodeWatchResponse(
  r: WatchResponse & { readonly fragment?: boolean }, ids: HeaderIds, header: HeaderNumbers,
): Buffer {
  const cancelReason = r.cancelReason === undefined || r.cancelReason === '' ? null : Buffer.from(r.cancelReason, 'utf8');
  let size = headerFieldSize(ids, header);
  if (r.watchId !== 0) size += 1 + int64Size(r.watchId);
  if (r.created) size += 2;
  if (r.canceled) size += 2;
  if (r.compactRevision !== 0) size += 1 + int64Size(r.compactRevision);
  if (cancelReason !== null) size += 1 + varintSize(cancelReason.length) + cancelReason.length;
  if (r.fragment === true) size += 2;
  for (const event of r.events) {
    const eventSize = eventBodySize(event);
    size += 1 + varintSize(eventSize) + eventSize;
  }

  const out = Buffer.allocUnsafe(size);
  let at = 0;
  at = writeHeader(out, at, 0x0a, ids, header);
  at = writeInt64Field(out, at, 0x10, r.watchId);
  if (r.created) at = writeBool(out, at, 0x18);
  if (r.canceled) at = writeBool(out, at, 0x20);
  at = writeInt64Field(out, at, 0x28, r.compactRevision);
  if (cancelReason !== null) at = writeBytesField(out, at, 0x32, cancelReason);
  if (r.fragment === true) at = writeBool(out, at, 0x38);
  for (const event of r.events) {
    out[at++] = 0x5a;
    at = writeVarint(out, at, eventBodySize(event));
    if (event.type === 'delete') {
      out[at++] = 0x08;
      out[at++] = 0x01;
    }
    at = writeKeyValue(out, at, 0x12, event.kv);
    if (event.prevKv !== null) at = writeKeyValue(out, at, 0x1a, event.prevKv);
  }
  invariant(at === size, () => `watch response: ${size} bytes sized, ${at} written`);
  return out;
}

function eventBodySize(event: WatchEvent): number {
  let size = event.type === 'delete' ? 2 : 0;
  size += keyValueFieldSize(event.kv);
  if (event.prevKv !== null) size += keyValueFieldSize(event.prevKv);
  return size;
}

