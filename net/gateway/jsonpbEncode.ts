// A response message as JSON text, byte for byte as etcd 3.4's gateway writes it
// (golang/protobuf 1.3 jsonpb with OrigName, EmitDefaults off):
//
// - fields in declaration order under their proto names, no whitespace;
// - zero scalars, empty repeated fields and absent messages left out (a present but
//   empty message is `{}`); a oneof writes its one member;
// - 64-bit integers as quoted decimals, 32-bit ones as numbers, bytes as standard
//   base64, enums by name (a number the enum does not name: the bare number);
// - strings escaped as Go's encoding/json escapes them (goJsonString).
//
// The input is the message decoded from the bytes the handler's answer serialized to
// (protobufjs toObject with defaults off), so presence is what a gRPC client would see.

import type protobuf from 'protobufjs';
import { goJsonString } from '../auth/goJson.js';

/** protobufjs's toObject options the encoder expects its input in. */
export const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, bytes: String, defaults: false, arrays: false, oneofs: false };

/** `message` (toObject form, TO_OBJECT options) of `type` as etcd's gateway prints it. */
export function encodeMessage(type: protobuf.Type, message: Readonly<Record<string, unknown>>): string {
  const parts: string[] = [];
  for (const field of type.fieldsArray) {
    const value = message[field.name];
    if (value === undefined || value === null) continue;
    if (field.repeated) {
      if (!Array.isArray(value) || value.length === 0) continue;
      parts.push(`"${field.name}":[${value.map((item: unknown) => encodeValue(field, item)).join(',')}]`);
      continue;
    }
    if (isZero(field, value)) continue;
    parts.push(`"${field.name}":${encodeValue(field, value)}`);
  }
  return `{${parts.join(',')}}`;
}

function encodeValue(field: protobuf.Field, value: unknown): string {
  const resolved = field.resolvedType;
  if (resolved !== null && 'fieldsArray' in resolved) return encodeMessage(resolved, asRecord(value));
  if (resolved !== null) return typeof value === 'string' ? `"${value}"` : String(value);
  switch (field.type) {
    case 'int64': case 'uint64': case 'sint64': case 'fixed64': case 'sfixed64': return `"${String(value)}"`;
    case 'string': return goJsonString(String(value));
    case 'bytes': return `"${String(value)}"`;
    default: return String(value);
  }
}

/** The values jsonpb leaves out: zero numbers, false, empty strings and bytes, an enum's zero value. */
function isZero(field: protobuf.Field, value: unknown): boolean {
  const resolved = field.resolvedType;
  if (resolved !== null && 'values' in resolved) return value === 0 || resolved.values[String(value)] === 0;
  if (resolved !== null) return false;
  return value === false || value === '' || value === 0 || value === '0';
}

function asRecord(value: unknown): Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
