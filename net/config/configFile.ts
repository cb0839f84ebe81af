// etcd's --config-file: a YAML file of etcd's keys (embed/config.go configYAML and
// etcdmain/config.go configProxy), turned into the same name → text map the command
// line gives, so one interpreter (flags.ts) reads both.
//
// etcd reads the file with sigs.k8s.io/yaml: YAML 1.1 (yaml.v2) converted to JSON, a
// number or bool coerced to text where the field is a string, then Go's encoding/json
// into the struct. What follows from that, and Tern copies:
//   - an unknown key is ignored (Tern logs a warning; etcd says nothing);
//   - keys match exactly, else case-insensitively ("Name:" sets name);
//   - a value of the wrong JSON type is refused with Go's text, the first in key order
//     (json.Marshal sorts the keys);
//   - durations are integers of nanoseconds (time.Duration has no text form in JSON);
//   - TLS files sit in `client-transport-security` / `peer-transport-security`
//     (cert-file, key-file, client-cert-auth, trusted-ca-file, auto-tls only: 3.4's file
//     has no CRL or allowed-CN keys).

import { parse as parseYaml } from 'yaml';
import { FLAG_TABLE, fileTypeOf, type FileType } from './flagTable.js';

export type FileResult =
  | { readonly ok: true; readonly values: ReadonlyMap<string, string>; readonly ignoredKeys: readonly string[] }
  | { readonly ok: false; readonly error: string };

/** Go type names, for refusals (uint unless listed). */
const GO_TYPE: Readonly<Record<FileType, string>> = {
  string: 'string', strings: '[]string', bool: 'bool', uint: 'uint', int: 'int', duration: 'time.Duration', none: '',
};
const GO_TYPE_OF_KEY: Readonly<Record<string, string>> = { 'snapshot-count': 'uint64', 'quota-backend-bytes': 'int64', 'max-concurrent-streams': 'uint32' };
/** etcd decodes the v2-proxy keys in a second pass, into another struct. */
const PROXY_KEYS = new Set(['proxy-failure-wait', 'proxy-refresh-interval', 'proxy-dial-timeout', 'proxy-write-timeout', 'proxy-read-timeout']);

const SECURITY_KEYS: Readonly<Record<string, FileType>> = {
  'cert-file': 'string', 'key-file': 'string', 'client-cert-auth': 'bool', 'trusted-ca-file': 'string', 'auto-tls': 'bool',
};
const SECURITY_OBJECTS: Readonly<Record<string, string>> = { 'client-transport-security': '', 'peer-transport-security': 'peer-' };

const TOP_KEYS: ReadonlyMap<string, FileType> = new Map([
  ...FLAG_TABLE.filter((s) => fileTypeOf(s) !== 'none').map((s): [string, FileType] => [s.name, fileTypeOf(s)]),
]);

class FileError extends Error {}

/** The flag values a config file's text sets. */
export function configFromYaml(text: string): FileResult {
  let document: unknown;
  try {
    document = parseYaml(text, { version: '1.1', uniqueKeys: false, intAsBigInt: true });
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
    return { ok: false, error: `error converting YAML to JSON: yaml: ${why}` };
  }
  try {
    return decode(document ?? {});
  } catch (error) {
    if (error instanceof FileError) return { ok: false, error: `error unmarshaling JSON: while decoding JSON: json: ${error.message}` };
    throw error;
  }
}

function decode(document: unknown): FileResult {
  if (!isMap(document)) throw new FileError(`cannot unmarshal ${jsonKind(document)} into Go value of type embed.configYAML`);
  const values = new Map<string, string>();
  const ignoredKeys: string[] = [];
  for (const key of Object.keys(document).sort()) {
    const value = document[key];
    const objectPrefix = matchKey(key, Object.keys(SECURITY_OBJECTS));
    if (objectPrefix !== undefined) {
      securityObject(objectPrefix, value, values);
      continue;
    }
    const name = matchKey(key, [...TOP_KEYS.keys()]);
    const type = name === undefined ? undefined : TOP_KEYS.get(name);
    if (name === undefined || type === undefined) {
      ignoredKeys.push(key);
      continue;
    }
    const text = fieldText(value, type, name, PROXY_KEYS.has(name) ? 'configProxy' : 'configYAML');
    if (text !== null) values.set(name, text);
  }
  return { ok: true, values, ignoredKeys };
}

function securityObject(objectKey: string, value: unknown, values: Map<string, string>): void {
  const prefix = SECURITY_OBJECTS[objectKey] ?? '';
  if (value === null || value === undefined) return;
  if (!isMap(value)) throw new FileError(`cannot unmarshal ${jsonKind(value)} into Go struct field configYAML.${objectKey} of type embed.securityConfig`);
  for (const key of Object.keys(value).sort()) {
    const field = matchKey(key, Object.keys(SECURITY_KEYS));
    const type = field === undefined ? undefined : SECURITY_KEYS[field];
    if (field === undefined || type === undefined) continue;
    const text = fieldText(value[key], type, `${objectKey}.${field}`, 'configYAML');
    if (text !== null) values.set(`${prefix}${field}`, text);
  }
}

/** Go's encoding/json field match: the exact name, else one equal but for case. */
function matchKey(key: string, names: readonly string[]): string | undefined {
  return names.find((n) => n === key) ?? names.find((n) => n.toLowerCase() === key.toLowerCase());
}

/** The flag text for one field's value; null for a YAML null (the default stays). */
function fieldText(value: unknown, type: FileType, field: string, struct: string): string | null {
  if (value === null || value === undefined) return null;
  const refuse = (shown: string): FileError => {
    const goType = GO_TYPE_OF_KEY[field] ?? GO_TYPE[type];
    return new FileError(`cannot unmarshal ${shown} into Go struct field ${struct}.${field} of type ${goType}`);
  };
  switch (type) {
    case 'string':
      if (typeof value === 'string') return value;
      if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw refuse(jsonKind(value));
    case 'bool':
      if (typeof value === 'boolean') return String(value);
      throw refuse(jsonKind(value));
    case 'uint':
    case 'int':
    case 'duration':
      return integerText(value, type, refuse);
    case 'strings':
      if (!Array.isArray(value)) throw refuse(jsonKind(value));
      return value.map((item) => fieldText(item, 'string', field, struct) ?? '').join(',');
    case 'none':
      return null;
  }
}

function integerText(value: unknown, type: 'uint' | 'int' | 'duration', refuse: (shown: string) => FileError): string {
  if (typeof value !== 'bigint' && typeof value !== 'number') throw refuse(jsonKind(value));
  if (typeof value === 'number' || (type === 'uint' && value < 0n)) throw refuse(`number ${String(value)}`);
  return type === 'duration' ? `${value}ns` : value.toString();
}

function isMap(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON kind Go names in an UnmarshalTypeError. */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'bigint') return 'number';
  if (typeof value === 'object' && value !== null) return 'object';
  return typeof value === 'boolean' ? 'bool' : typeof value;
}
