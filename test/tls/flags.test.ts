// etcd's TLS flags: defaults, Go booleans, and etcd's start-time refusals.

import test from 'ava';
import { missingCertificate, parseGoBool, tlsFlagsFrom } from '../../net/tls/tlsFlags.js';

const flagsOf = (entries: Record<string, string>): ReturnType<typeof tlsFlagsFrom> => tlsFlagsFrom(new Map(Object.entries(entries)));

test('no TLS flag: both sides empty, no ciphers', (t) => {
  const result = flagsOf({});
  if (!result.ok) { t.fail(result.error); return; }
  t.deepEqual(result.flags.client, { certFile: '', keyFile: '', trustedCaFile: '', clientCertAuth: false, crlFile: '', autoTls: false, rules: { allowedCn: '', allowedHostname: '' } });
  t.is(result.flags.ciphers, undefined);
});

test('client and peer sides read their own flags', (t) => {
  const result = flagsOf({
    'cert-file': 'c.pem', 'key-file': 'c-key.pem', 'trusted-ca-file': 'ca.pem', 'client-cert-auth': 'true', 'client-crl-file': 'c.crl',
    'client-cert-allowed-hostname': 'client.example', 'peer-cert-file': 'p.pem', 'peer-key-file': 'p-key.pem', 'peer-auto-tls': '1',
    'peer-cert-allowed-cn': 'member', 'cipher-suites': 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  });
  if (!result.ok) { t.fail(result.error); return; }
  t.like(result.flags.client, { certFile: 'c.pem', trustedCaFile: 'ca.pem', clientCertAuth: true, crlFile: 'c.crl', rules: { allowedCn: '', allowedHostname: 'client.example' } });
  t.like(result.flags.peer, { certFile: 'p.pem', keyFile: 'p-key.pem', autoTls: true, clientCertAuth: false, rules: { allowedCn: 'member', allowedHostname: '' } });
  t.is(result.flags.ciphers, 'ECDHE-RSA-AES128-GCM-SHA256');
});

test('bad values get etcd\'s refusals', (t) => {
  t.deepEqual(flagsOf({ 'client-cert-auth': 'yes' }), { ok: false, error: 'invalid boolean value "yes" for -client-cert-auth: parse error', exitCode: 2 });
  t.deepEqual(flagsOf({ 'cipher-suites': 'TLS_NOPE' }), { ok: false, error: 'unexpected TLS cipher suite "TLS_NOPE"', exitCode: 1 });
  t.deepEqual(flagsOf({ 'peer-cert-allowed-cn': 'a', 'peer-cert-allowed-hostname': 'b' }),
    { ok: false, error: 'AllowedCN and AllowedHostname are mutually exclusive (cn="a", hostname="b")', exitCode: 1 });
  t.is(parseGoBool('T'), true);
  t.is(parseGoBool('False'), false);
  t.is(parseGoBool(''), null);
});

test('an https URL with no certificate and no auto-TLS is refused as etcd refuses it', (t) => {
  const result = flagsOf({});
  if (!result.ok) { t.fail(result.error); return; }
  t.is(missingCertificate(result.flags.client, ['http://127.0.0.1:2379'], 'client'), null);
  t.is(missingCertificate(result.flags.client, ['http://127.0.0.1:2379', 'https://127.0.0.1:2378'], 'client'),
    'TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2378 with HTTPS scheme');
  t.is(missingCertificate(result.flags.peer, ['https://127.0.0.1:2380'], 'peer'),
    'cannot listen on TLS for 127.0.0.1:2380: KeyFile and CertFile are not presented');
  const auto = flagsOf({ 'auto-tls': 'true' });
  if (!auto.ok) { t.fail(auto.error); return; }
  t.is(missingCertificate(auto.flags.client, ['https://127.0.0.1:2379'], 'client'), null);
});
