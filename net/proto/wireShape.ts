// A request's bytes must be a well-formed protobuf message before they are decoded:
// protobufjs reads a string field whose length runs past the end of the buffer without
// complaint (bytes fields it does check), so truncated bytes could reach a handler as a
// garbled name. grpc-go, behind etcd, refuses them as undecodable; this walk refuses
// them too. Top level only: a nested message's length is checked against the buffer,
// not its contents (which one cannot tell from a string without the schema).

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;
/** A varint is at most 10 bytes (64 bits in groups of 7). */
const VARINT_BYTES_MAX = 10;

/** Whether `bytes` is a sequence of complete fields of the wire types proto3 writes. */
export function isWellFormedMessage(bytes: Uint8Array): boolean {
  let at = 0;
  while (at < bytes.length) {
    const tag = varintAt(bytes, at);
    if (tag === null || tag.value < 8) return false; // field number 0
    at = tag.next;
    switch (tag.value % 8) {
      case VARINT: {
        const value = varintAt(bytes, at);
        if (value === null) return false;
        at = value.next;
        break;
      }
      case FIXED64: at += 8; break;
      case FIXED32: at += 4; break;
      case LENGTH_DELIMITED: {
        const length = varintAt(bytes, at);
        if (length === null) return false;
        at = length.next + length.value;
        break;
      }
      default: return false; // groups (3, 4) and reserved types
    }
    if (at > bytes.length) return false;
  }
  return true;
}

function varintAt(bytes: Uint8Array, at: number): { readonly value: number; readonly next: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < VARINT_BYTES_MAX; i++) {
    const byte = bytes[at + i];
    if (byte === undefined) return null;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, next: at + i + 1 };
    scale *= 0x80;
  }
  return null;
}
