// What an :authority that nghttp2 refuses becomes (issue #15). etcdctl 3.4 dials some
// endpoints as given (`passthrough:///http://127.0.0.1:2379`), so grpc-go sends the URL
// as the :authority; for `unix:///run/etcd.sock` it sends the URL or the bare path. Go's
// server takes the value as an opaque host; nghttp2, inside node's server, checks it
// against RFC 3986's authority grammar and resets the stream. We give nghttp2 what the
// client meant: the URL's host[:port], or "localhost" where there is no valid host (a
// socket path). Nothing in Tern routes on :authority, so no information is lost.

import type { HeaderField } from './hpackDecoder.js';

/** scheme "://" rest (RFC 3986 §3.1's scheme). */
const URL_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/;
/** The characters nghttp2 admits in an :authority (RFC 3986 authority: unreserved, sub-delims, ":", "@", "[", "]", "%"). */
const AUTHORITY = /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]*$/;

/** The authority a value names: valid ones unchanged, a URL its host, anything else "localhost". */
export function plainAuthority(value: string): string {
  if (AUTHORITY.test(value)) return value;
  const match = URL_FORM.exec(value);
  const host = match?.[1] ?? '';
  return host !== '' && AUTHORITY.test(host) ? host : 'localhost';
}

/** The fields with refused :authority values made plain; null when none needed it. */
export function withPlainAuthority(fields: readonly HeaderField[]): HeaderField[] | null {
  const out = fields.map((field) => (field.name === ':authority' ? { ...field, value: plainAuthority(field.value) } : field));
  return out.some((field, i) => field.value !== fields[i]?.value) ? out : null;
}
