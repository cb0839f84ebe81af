// A minimal protobuf wire reader for the records of etcd's backend buckets (authpb
// today): a message as its list of fields, in the order they were written. Only the two
// wire types those records use are read, varints and length-delimited fields; anything
// else means the bytes are not such a record, and is refused rather than skipped.

/** One field of a message: a varint's value, or a length-delimited field's bytes. */
export type ProtoField =
  | { readonly field: number; readonly kind: 'varint'; readonly value: number }
  | { readonly field: number; readonly kind: 'bytes'; readonly value: Uint8Array };

/** Thrown for bytes that are not a message of varint and length-delimited fields. */
export class ProtoFormatError extends Error {}

const VARINT = 0;
const LENGTH_DELIMITED = 2;
/** Bytes of the longest varint read (56 bits; Tern's values are below 2^53): a longer one is refused. */
const VARINT_BYTES_MAX = 8;

export function protoFields(message: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let at = 0;
  while (at < message.length) {
    const [tag, afterTag] = readVarint(message, at);
    const field = Math.floor(tag / 8);
    if (field === 0) throw new ProtoFormatError(`field number 0 at byte ${at}`);
    if (tag % 8 === VARINT) {
      const [value, next] = readVarint(message, afterTag);
      fields.push({ field, kind: 'varint', value });
      at = next;
    } else if (tag % 8 === LENGTH_DELIMITED) {
      const [length, start] = readVarint(message, afterTag);
      if (start + length > message.length) throw new ProtoFormatError(`field ${field} runs past the end (${length} bytes at ${start})`);
      fields.push({ field, kind: 'bytes', value: message.subarray(start, start + length) });
      at = start + length;
    } else {
      throw new ProtoFormatError(`field ${field} has wire type ${tag % 8}, not a varint or length-delimited`);
    }
  }
  return fields;
}

/** The varint at `at`: its value and the offset after it. */
function readVarint(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < VARINT_BYTES_MAX; i++) {
    const byte = bytes[at + i];
    if (byte === undefined) throw new ProtoFormatError(`varint at byte ${at} runs past the end`);
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, at + i + 1];
    scale *= 0x80;
  }
  throw new ProtoFormatError(`varint at byte ${at} is longer than ${VARINT_BYTES_MAX} bytes`);
}
