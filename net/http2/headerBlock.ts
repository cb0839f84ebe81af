// Header blocks as frames carry them (RFC 9113 §4.3, §6.2, §6.10): a HEADERS frame,
// then CONTINUATION frames on the same stream until one has END_HEADERS, with nothing
// else in between. HEADERS may carry padding (PADDED) and a priority (PRIORITY) around
// its fragment.
//
// The assembler strips both and hands back the whole block; the writer cuts a new
// block into frames of at most MAX_FRAME_PAYLOAD, drops the padding (it only hides
// lengths, and the bytes never leave this process) and keeps the priority fields, so
// the server sees the same stream, the same END_STREAM and the same priority.

import { Flag, FrameError, FrameType, frame, MAX_FRAME_PAYLOAD, type Frame } from './frames.js';

export interface HeaderBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  /** The 5 priority bytes (exclusive bit, dependency, weight) when PRIORITY was set. */
  readonly priority: Buffer | null;
  readonly block: Buffer;
}

const PRIORITY_BYTES = 5;

/** Collects one header block at a time; at most maxBlockBytes of fragments each. */
export class HeaderBlockAssembler {
  private open: { streamId: number; endStream: boolean; priority: Buffer | null; fragments: Buffer[]; bytes: number } | null = null;

  constructor(private readonly maxBlockBytes: number) {}

  /** True while a HEADERS frame waits for its CONTINUATIONs: then no other frame may come. */
  get inBlock(): boolean {
    return this.open !== null;
  }

  /** Takes a HEADERS or CONTINUATION frame; the block once END_HEADERS completes it. */
  push(f: Frame): HeaderBlock | null {
    if (f.type === FrameType.HEADERS) {
      if (this.open !== null) throw new FrameError('HEADERS inside another header block');
      if (f.streamId === 0) throw new FrameError('HEADERS on stream 0');
      const { fragment, priority } = headersFragment(f);
      this.open = { streamId: f.streamId, endStream: (f.flags & Flag.END_STREAM) !== 0, priority, fragments: [], bytes: 0 };
      return this.add(fragment, f.flags);
    }
    if (f.type === FrameType.CONTINUATION) {
      if (this.open?.streamId !== f.streamId) throw new FrameError('CONTINUATION outside its header block');
      return this.add(f.payload, f.flags);
    }
    throw new FrameError(`frame type ${f.type} is not part of a header block`);
  }

  private add(fragment: Buffer, flags: number): HeaderBlock | null {
    const open = this.open;
    if (open === null) throw new Error('no header block open');
    open.bytes += fragment.length;
    if (open.bytes > this.maxBlockBytes) throw new FrameError(`header block over ${this.maxBlockBytes} bytes`);
    open.fragments.push(fragment);
    if ((flags & Flag.END_HEADERS) === 0) return null;
    this.open = null;
    return { streamId: open.streamId, endStream: open.endStream, priority: open.priority, block: Buffer.concat(open.fragments) };
  }
}

/** §6.2: HEADERS' payload without its pad length, priority and padding. */
function headersFragment(f: Frame): { fragment: Buffer; priority: Buffer | null } {
  let start = 0;
  let end = f.payload.length;
  if ((f.flags & Flag.PADDED) !== 0) {
    const padLength = f.payload[0];
    if (padLength === undefined) throw new FrameError('PADDED HEADERS without a pad length');
    start = 1;
    end -= padLength;
  }
  let priority: Buffer | null = null;
  if ((f.flags & Flag.PRIORITY) !== 0) {
    priority = f.payload.subarray(start, start + PRIORITY_BYTES);
    start += PRIORITY_BYTES;
  }
  // Padding at least as long as what it pads is a PROTOCOL_ERROR (§6.2).
  if (end < start) throw new FrameError('HEADERS padding longer than its payload');
  return { fragment: f.payload.subarray(start, end), priority };
}

/** The block as HEADERS + CONTINUATION frames, each payload at most MAX_FRAME_PAYLOAD. */
export function headerBlockFrames(header: Omit<HeaderBlock, 'block'>, block: Buffer): Buffer[] {
  const prefix = header.priority ?? Buffer.alloc(0);
  const firstRoom = MAX_FRAME_PAYLOAD - prefix.length;
  const frames: Buffer[] = [];
  let offset = Math.min(block.length, firstRoom);
  let flags = (header.endStream ? Flag.END_STREAM : 0) | (header.priority === null ? 0 : Flag.PRIORITY);
  if (offset === block.length) flags |= Flag.END_HEADERS;
  frames.push(frame(FrameType.HEADERS, flags, header.streamId, Buffer.concat([prefix, block.subarray(0, offset)])));
  while (offset < block.length) {
    const end = Math.min(block.length, offset + MAX_FRAME_PAYLOAD);
    frames.push(frame(FrameType.CONTINUATION, end === block.length ? Flag.END_HEADERS : 0, header.streamId, block.subarray(offset, end)));
    offset = end;
  }
  return frames;
}
