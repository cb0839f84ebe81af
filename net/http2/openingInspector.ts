// Whether a gRPC connection needs the :authority rewriter, decided from its opening
// frames so that the common connection pays nothing (issue #17 is performance): it is
// handed to node's HTTP/2 server as the raw socket, whose bytes native code reads.
//
// The decision needs the first header block, and a grpc-go client sends no request
// before it has the server's SETTINGS (its connection only becomes ready then). So the
// listener answers the preface with an empty SETTINGS frame of its own (all defaults,
// which is all a client may assume anyway) and reads on. The client acknowledges that
// frame, and the ACK must not reach nghttp2, which would take it for the ACK of its own
// SETTINGS (or, if that is already acknowledged, fail the connection with "unexpected
// ACK"). So the first SETTINGS ACK is cut out, and the verdict waits for it.
//
// The verdict is "rewrite" when the first header block holds a URL-shaped :authority,
// "raw" when it does not, when any frame other than SETTINGS, WINDOW_UPDATE or PRIORITY
// comes first (a PING must be answered by the real server), or when the caller gives up
// waiting (an idle client). A connection judged "raw" whose later requests carry a URL
// :authority stays broken as before: etcdctl uses one authority per connection, so its
// first request is representative.

import { withPlainAuthority } from './authority.js';
import { HEADER_LIMITS } from './authorityRewriter.js';
import { Flag, FrameError, FrameSplitter, FrameType, type Frame } from './frames.js';
import { HeaderBlockAssembler } from './headerBlock.js';
import { HpackDecoder } from './hpackDecoder.js';

export type Verdict =
  | { readonly kind: 'wait' }
  /** bytes: what the client sent after the preface, less our SETTINGS' ACK, to replay to the server. */
  | { readonly kind: 'raw' | 'rewrite'; readonly bytes: Buffer };

/** The most opening bytes held before a verdict; a client that needs more is dropped. */
export const MAX_OPENING_BYTES = HEADER_LIMITS.maxBlockBytes + 64 * 1024;

const WAIT: Verdict = { kind: 'wait' };

export class OpeningInspector {
  private readonly splitter = new FrameSplitter();
  private readonly blocks = new HeaderBlockAssembler(HEADER_LIMITS.maxBlockBytes);
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private ackSeen = false;
  private decision: 'raw' | 'rewrite' | null = null;
  /** A verdict was given: the bytes are the caller's now. */
  private done = false;

  /** Takes bytes after the client preface; FrameError/HpackError: drop the connection. */
  push(chunk: Buffer): Verdict {
    if (this.done) throw new Error('OpeningInspector used after its verdict');
    for (const f of this.splitter.push(chunk)) this.frame(f);
    if (this.keptBytes + this.splitter.buffered > MAX_OPENING_BYTES) throw new FrameError(`no verdict within ${MAX_OPENING_BYTES} opening bytes`);
    return this.verdict();
  }

  /** The caller stops waiting for a request: "raw" as soon as the ACK is in. */
  giveUp(): Verdict {
    this.decision ??= 'raw';
    return this.verdict();
  }

  private frame(f: Frame): void {
    if (f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0 && !this.ackSeen) {
      this.ackSeen = true;
      return;
    }
    this.kept.push(f.raw);
    this.keptBytes += f.raw.length;
    if (this.decision !== null) return;
    if (f.type === FrameType.HEADERS || f.type === FrameType.CONTINUATION) {
      const header = this.blocks.push(f);
      if (header === null) return;
      // The first block: the dynamic table is empty, so a fresh decoder reads it right.
      const fields = new HpackDecoder(HEADER_LIMITS).decode(header.block);
      this.decision = withPlainAuthority(fields) === null ? 'raw' : 'rewrite';
      return;
    }
    if (this.blocks.inBlock) throw new FrameError(`frame type ${f.type} inside a header block`);
    if (f.type !== FrameType.SETTINGS && f.type !== FrameType.WINDOW_UPDATE && f.type !== FrameType.PRIORITY) this.decision = 'raw';
  }

  private verdict(): Verdict {
    if (this.decision === null || !this.ackSeen) return WAIT;
    this.done = true;
    return { kind: this.decision, bytes: Buffer.concat([...this.kept, this.splitter.takePending()]) };
  }
}
