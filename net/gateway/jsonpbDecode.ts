// A request body read into a protobuf message the way etcd 3.4's gateway reads it:
// golang/protobuf 1.3's jsonpb with unknown fields allowed, on top of Go's
// encoding/json (goJsonParse.ts). The rules, as etcd behaves (checked by running it):
//
// - a field answers to its proto name or its lowerCamel JSON name (the camel one wins
//   if both are given); other keys are ignored; `null` leaves a field unset;
// - 64-bit integers may be numbers or quoted numbers; a quoted number's inside is
//   parsed again as JSON text, so "x" fails as invalid JSON and "1.5" as not an integer;
// - bytes are standard base64 (or, as Go allows, an array of byte values);
// - enums are names (an unknown one is refused) or numbers;
// - a wrong JSON type is refused with Go's words, naming the Go type etcd declares
//   ("json: cannot unmarshal number into Go value of type []uint8");
// - fields are read in declaration order and the first refusal wins; oneof members
//   come after the plain fields.
//
// The result is a plain object in proto-loader's input form (proto field names, 64-bit
// integers as decimal strings, bytes as Buffers, enums as numbers), holding only what
// Go would put on the wire: no zero scalars, but oneof members even when zero.

import type protobuf from 'protobufjs';
import { goBase64Decode } from './goBase64.js';
import { goQuote, unmarshalWhole, utf8Text, type JsonNode } from './goJsonParse.js';

export type DecodedRequest =
  | { readonly ok: true; readonly message: Record<string, unknown> }
  | { readonly ok: false; readonly error: string }
  /** Go's gateway would marshal a nil message in a repeated field and panic; the connection drops. */
  | { readonly ok: 'panic' };

/** Fields Tern's protos carry that etcd 3.4's do not (3.5 additions): unknown to etcd 3.4, so ignored. */
const NOT_IN_ETCD_34 = new Set(['.etcdserverpb.MemberListRequest.linearizable']);

/** Thrown inside the decoder and caught at its entry: the refusal's text. */
class Refusal extends Error {
  constructor(readonly error: string) {
    super(error);
  }
}

/** Thrown inside the decoder: a `null` message inside a list (etcd's gateway crashes on it). */
class NilInRepeated extends Error {}

/** jsonpb's reading of `node` (the body's first JSON value) as a `type` message. */
export function decodeRequest(type: protobuf.Type, node: JsonNode): DecodedRequest {
  try {
    return { ok: true, message: decodeMessage(type, node) };
  } catch (e: unknown) {
    if (e instanceof Refusal) return { ok: false, error: e.error };
    if (e instanceof NilInRepeated) return { ok: 'panic' };
    throw e;
  }
}

function decodeMessage(type: protobuf.Type, node: JsonNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (node.kind === 'null') return out;
  if (node.kind !== 'object') throw typeError(node, 'map[string]json.RawMessage');
  const members = new Map(node.members);
  const plain = type.fieldsArray.filter((f) => f.partOf === null && !NOT_IN_ETCD_34.has(f.fullName));
  const inOneofs = type.fieldsArray.filter((f) => f.partOf !== null);
  for (const field of [...plain, ...inOneofs]) {
    const value = consume(members, field);
    if (value === undefined) continue;
    const decoded = field.repeated ? decodeRepeated(field, value) : decodeSingle(field, value, field.partOf !== null);
    if (decoded !== undefined) out[field.name] = decoded;
  }
  return out;
}

/** The field's JSON value, taken out of the object (both names consumed; the camel one wins). */
function consume(members: Map<string, JsonNode>, field: protobuf.Field): JsonNode | undefined {
  const camel = jsonName(field.name);
  const orig = members.get(field.name);
  const camelValue = members.get(camel);
  members.delete(field.name);
  members.delete(camel);
  return camelValue ?? orig;
}

/** protoc's JSON name: underscores dropped, the letter after each one upper-cased. */
export function jsonName(name: string): string {
  return name.replace(/_(.?)/g, (_m, next: string) => next.toUpperCase());
}

function decodeRepeated(field: protobuf.Field, node: JsonNode): unknown[] | undefined {
  if (node.kind === 'null') return undefined;
  if (node.kind !== 'array') throw typeError(node, '[]json.RawMessage');
  const items = node.items.map((item) => {
    if (item.kind === 'null' && field.resolvedType !== null && !isEnum(field.resolvedType)) throw new NilInRepeated('nil message in a repeated field');
    return decodeSingle(field, item, true) ?? zeroOf(field);
  });
  return items.length === 0 ? undefined : items;
}

/** One value of `field`; undefined when Go would leave the field at its zero value (unless `keepZero`). */
function decodeSingle(field: protobuf.Field, node: JsonNode, keepZero: boolean): unknown {
  const resolved = field.resolvedType;
  if (resolved !== null && !isEnum(resolved)) {
    return node.kind === 'null' ? undefined : decodeMessage(resolved as protobuf.Type, node);
  }
  const value = resolved !== null ? decodeEnum(resolved as protobuf.Enum, node) : decodeScalar(field.type, node);
  if (value === undefined) return keepZero ? zeroOf(field) : undefined;
  return keepZero || !isZero(value) ? value : undefined;
}

function isEnum(resolved: protobuf.Type | protobuf.Enum): boolean {
  return 'values' in resolved;
}

function zeroOf(field: protobuf.Field): unknown {
  if (field.resolvedType !== null) return isEnum(field.resolvedType) ? 0 : {};
  if (field.type === 'bool') return false;
  if (field.type === 'string') return '';
  if (field.type === 'bytes') return Buffer.alloc(0);
  return INTEGER_KINDS[field.type] === undefined ? 0 : '0';
}

function isZero(value: unknown): boolean {
  return value === 0 || value === '0' || value === false || value === '' || (value instanceof Uint8Array && value.length === 0);
}

function decodeEnum(type: protobuf.Enum, node: JsonNode): number | undefined {
  if (node.kind === 'string') {
    // jsonpb looks the name up as written, escapes and all.
    const name = Buffer.from(node.raw).toString('latin1');
    const value = Object.hasOwn(type.values, name) ? type.values[name] : undefined;
    if (value === undefined) throw new Refusal(`unknown value ${goQuote(node.raw)} for enum ${goTypeName(type)}`);
    return value;
  }
  const integer = storeInteger(node, INT32, goTypeName(type));
  return integer === undefined ? undefined : Number(integer);
}

/** Go's name of an etcd enum type: the proto package, then the nesting joined by '_' (etcdserverpb.RangeRequest_SortOrder). */
export function goTypeName(type: protobuf.ReflectionObject): string {
  const nesting: string[] = [type.name];
  let parent = type.parent;
  while (parent !== null && 'fieldsArray' in parent) {
    nesting.unshift(parent.name);
    parent = parent.parent;
  }
  const pkg = parent === null ? '' : parent.name;
  return `${pkg}.${nesting.join('_')}`;
}

interface IntegerKind {
  readonly go: string;
  readonly min: bigint;
  readonly max: bigint;
}

const INTEGER_KINDS: Readonly<Record<string, IntegerKind>> = {
  int64: { go: 'int64', min: -(2n ** 63n), max: 2n ** 63n - 1n },
  sint64: { go: 'int64', min: -(2n ** 63n), max: 2n ** 63n - 1n },
  sfixed64: { go: 'int64', min: -(2n ** 63n), max: 2n ** 63n - 1n },
  uint64: { go: 'uint64', min: 0n, max: 2n ** 64n - 1n },
  fixed64: { go: 'uint64', min: 0n, max: 2n ** 64n - 1n },
  int32: { go: 'int32', min: -(2n ** 31n), max: 2n ** 31n - 1n },
  sint32: { go: 'int32', min: -(2n ** 31n), max: 2n ** 31n - 1n },
  sfixed32: { go: 'int32', min: -(2n ** 31n), max: 2n ** 31n - 1n },
  uint32: { go: 'uint32', min: 0n, max: 2n ** 32n - 1n },
  fixed32: { go: 'uint32', min: 0n, max: 2n ** 32n - 1n },
};

const INT32: IntegerKind = { go: 'int32', min: -(2n ** 31n), max: 2n ** 31n - 1n };
const UINT8: IntegerKind = { go: 'uint8', min: 0n, max: 255n };

function decodeScalar(protoType: string, node: JsonNode): unknown {
  const integer = INTEGER_KINDS[protoType];
  if (integer !== undefined) return storeInteger(node, integer);
  switch (protoType) {
    case 'bool':
      if (node.kind === 'bool') return node.value;
      if (node.kind === 'null') return undefined;
      throw typeError(node, 'bool');
    case 'string':
      if (node.kind === 'string') return utf8Text(node.value);
      if (node.kind === 'null') return undefined;
      throw typeError(node, 'string');
    case 'bytes': return decodeBytes(node);
    default: throw new Error(`the gateway reads no ${protoType} fields (etcd's requests have none)`);
  }
}

/**
 * An integer field: a number, or a quoted number (whose inside jsonpb parses again as
 * JSON); Go's ParseInt decides, so fractions and exponents are refused.
 */
function storeInteger(given: JsonNode, kind: IntegerKind, goName = kind.go): string | undefined {
  if (given.kind !== 'string') return integerLiteral(given, kind, goName);
  const inner = unmarshalWhole(given.raw);
  if (inner.ok !== true) throw new Refusal(inner.ok === false ? inner.error : 'unexpected end of JSON input');
  return integerLiteral(inner.value, kind, goName);
}

/** encoding/json storing a JSON value into a Go integer of `kind`. */
function integerLiteral(node: JsonNode, kind: IntegerKind, goName: string): string | undefined {
  if (node.kind === 'null') return undefined;
  if (node.kind !== 'number') throw typeError(node, goName);
  const text = node.text;
  const refused = new Refusal(`json: cannot unmarshal number ${text} into Go value of type ${goName}`);
  // ParseUint takes no sign at all, not even "-0".
  if (!/^-?\d+$/.test(text) || (kind.min === 0n && text.startsWith('-'))) throw refused;
  const value = BigInt(text);
  if (value < kind.min || value > kind.max) throw refused;
  return value.toString();
}

function decodeBytes(node: JsonNode): Buffer | undefined {
  switch (node.kind) {
    case 'null': return undefined;
    case 'string': {
      const decoded = goBase64Decode(node.value);
      if ('error' in decoded) throw new Refusal(decoded.error);
      return Buffer.from(decoded.bytes);
    }
    case 'array': {
      // Go fills a []byte from a JSON array element by element (no quoted numbers there); the first refusal counts.
      const values = node.items.map((item) => integerLiteral(item, UINT8, 'uint8') ?? '0');
      return Buffer.from(values.map(Number));
    }
    default: throw typeError(node, '[]uint8');
  }
}

/** Go's UnmarshalTypeError for a value of the wrong JSON kind. */
function typeError(node: JsonNode, goType: string): Refusal {
  const names: Readonly<Record<JsonNode['kind'], string>> = { object: 'object', array: 'array', string: 'string', number: 'number', bool: 'bool', null: 'null' };
  return new Refusal(`json: cannot unmarshal ${names[node.kind]} into Go value of type ${goType}`);
}
