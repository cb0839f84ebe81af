// The client→server half of an HTTP/2 connection, rewritten so that nghttp2 accepts
// URL-shaped :authority values (issue #15, net/http2/authority.ts).
//
// Every frame passes unchanged except header blocks: each is decoded with the client's
// HPACK state (one decoder for the whole connection, fed every block in order), its
// :authority made plain, and re-encoded without the dynamic table, so the server's
// decoder never holds an entry and cannot fall out of step with what it is given. The
// server→client half is not touched.
//
// Errors (FrameError, HpackError) mean the connection is beyond repair: the caller
// destroys it, which is what nghttp2 would do with a PROTOCOL_ERROR or a
// COMPRESSION_ERROR.

import { withPlainAuthority } from './authority.js';
import { FrameError, FrameSplitter, FrameType, type Frame } from './frames.js';
import { HeaderBlockAssembler, headerBlockFrames } from './headerBlock.js';
import { HpackDecoder } from './hpackDecoder.js';
import { encodeWithoutIndexing } from './hpackEncoder.js';

/** "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" (RFC 9113 §3.4). */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Limits on what one client's header blocks may cost us. The decoded list limit is twice
 * the SETTINGS_MAX_HEADER_LIST_SIZE node announces (65535): past it nghttp2 refuses the
 * request anyway, and the margin keeps us from being the stricter one.
 */
export const HEADER_LIMITS = {
  /** The SETTINGS_HEADER_TABLE_SIZE node announces (its default, which grpc-js keeps). */
  maxTableBytes: 4096,
  maxBlockBytes: 64 * 1024,
  maxListBytes: 2 * 65_535,
} as const;

export class AuthorityRewriter {
  private prefaceLeft = CLIENT_PREFACE.length;
  private readonly splitter = new FrameSplitter();
  private readonly blocks = new HeaderBlockAssembler(HEADER_LIMITS.maxBlockBytes);
  private readonly decoder = new HpackDecoder(HEADER_LIMITS);

  /** The bytes to give the server for these bytes from the client (from the preface on). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let rest = chunk;
    if (this.prefaceLeft > 0) {
      const preface = rest.subarray(0, this.prefaceLeft);
      if (!preface.equals(CLIENT_PREFACE.subarray(CLIENT_PREFACE.length - this.prefaceLeft, CLIENT_PREFACE.length - this.prefaceLeft + preface.length))) {
        throw new FrameError('not the HTTP/2 client preface');
      }
      out.push(preface);
      this.prefaceLeft -= preface.length;
      rest = rest.subarray(preface.length);
    }
    if (rest.length === 0) return out;
    for (const f of this.splitter.push(rest)) this.frame(f, out);
    return out;
  }

  private frame(f: Frame, out: Buffer[]): void {
    if (f.type === FrameType.HEADERS || f.type === FrameType.CONTINUATION) {
      const header = this.blocks.push(f);
      if (header === null) return;
      const fields = this.decoder.decode(header.block);
      const encoded = encodeWithoutIndexing(withPlainAuthority(fields) ?? fields);
      out.push(...headerBlockFrames(header, encoded));
      return;
    }
    // §6.10: nothing may come between a HEADERS and its last CONTINUATION.
    if (this.blocks.inBlock) throw new FrameError(`frame type ${f.type} inside a header block`);
    // A client never sends PUSH_PROMISE (§8.4): nghttp2 would end the connection, and its
    // header block would move the HPACK state out of our sight.
    if (f.type === FrameType.PUSH_PROMISE) throw new FrameError('PUSH_PROMISE from a client');
    out.push(f.raw);
  }
}
