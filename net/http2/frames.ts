// HTTP/2 framing (RFC 9113 §4.1) as far as a byte-stream rewriter needs it: cut the
// client's bytes after the connection preface into whole frames, and build frames.
//
// Frames are at most MAX_FRAME_PAYLOAD long: that is the SETTINGS_MAX_FRAME_SIZE our
// HTTP/2 server announces (node's default; grpc-js does not change it), so a longer
// frame is one the server would refuse with FRAME_SIZE_ERROR anyway. Bounding it here
// bounds what the splitter buffers.

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

export const FRAME_HEADER_BYTES = 9;
/** SETTINGS_MAX_FRAME_SIZE's initial value (RFC 9113 §6.5.2), which node's server keeps. */
export const MAX_FRAME_PAYLOAD = 16_384;

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = {
  /** SETTINGS and PING. */
  ACK: 0x1,
  END_STREAM: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
  /** The frame as received, header included. */
  readonly raw: Buffer;
}

/** Cuts a byte stream into frames; holds at most one partial frame. */
export class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /** The frames the bytes complete; FrameError on an oversized frame. */
  push(chunk: Buffer): Frame[] {
    const bytes = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    let offset = 0;
    while (bytes.length - offset >= FRAME_HEADER_BYTES) {
      const length = bytes.readUIntBE(offset, 3);
      if (length > MAX_FRAME_PAYLOAD) throw new FrameError(`frame of ${length} bytes over ${MAX_FRAME_PAYLOAD}`);
      const end = offset + FRAME_HEADER_BYTES + length;
      if (end > bytes.length) break;
      frames.push({
        type: bytes[offset + 3] ?? 0,
        flags: bytes[offset + 4] ?? 0,
        streamId: bytes.readUInt32BE(offset + 5) & 0x7fffffff,
        payload: bytes.subarray(offset + FRAME_HEADER_BYTES, end),
        raw: bytes.subarray(offset, end),
      });
      offset = end;
    }
    // A copy, so a partial frame does not pin the whole chunk it came in.
    this.pending = offset === bytes.length ? Buffer.alloc(0) : Buffer.from(bytes.subarray(offset));
    return frames;
  }

  /** Bytes held of a frame not yet complete. */
  get buffered(): number {
    return this.pending.length;
  }

  /** Those bytes, handed back (the splitter is empty after). */
  takePending(): Buffer {
    const pending = this.pending;
    this.pending = Buffer.alloc(0);
    return pending;
  }
}

/** One frame's bytes. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new RangeError(`frame payload of ${payload.length} bytes`);
  if (!(Number.isInteger(streamId) && streamId >= 0 && streamId <= 0x7fffffff)) throw new RangeError(`stream id ${streamId}`);
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** An empty SETTINGS frame: "all values at their defaults" (RFC 9113 §6.5). */
export const EMPTY_SETTINGS = frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(0));
