// What an :authority holding a URL becomes (issue #15). etcdctl 3.4 dials some endpoints
// as given (`passthrough:///http://127.0.0.1:2379`), so grpc-go sends the URL as the
// :authority. Go's server takes it as an opaque host; nghttp2, inside node's server,
// checks it against RFC 3986's authority grammar and resets the stream. We give
// nghttp2 what the client meant: the URL's host[:port].

import type { HeaderField } from './hpackDecoder.js';

/** scheme "://" rest (RFC 3986 §3.1's scheme). */
const URL_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/;

/** The authority a URL-shaped value names; other values unchanged. */
export function plainAuthority(value: string): string {
  const match = URL_FORM.exec(value);
  if (match === null) return value;
  const host = match[1] ?? '';
  // unix:///path has no host; any valid authority does, and nobody routes on it here.
  return host === '' ? 'localhost' : host;
}

/** The fields with URL-shaped :authority values made plain; null when none needed it. */
export function withPlainAuthority(fields: readonly HeaderField[]): HeaderField[] | null {
  const out = fields.map((field) => (field.name === ':authority' ? { ...field, value: plainAuthority(field.value) } : field));
  return out.some((field, i) => field.value !== fields[i]?.value) ? out : null;
}
