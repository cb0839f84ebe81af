// --config-file: etcd's YAML keys, read as sigs.k8s.io/yaml and Go's encoding/json read
// them (unknown keys ignored, case-insensitive names, Go's type errors, durations in
// nanoseconds); when given, the command line's other flags and ETCD_* are ignored.
import test from 'ava';
import { configFromYaml } from '../../../net/config/configFile.js';
import { readInvocation } from '../../../net/config/invocation.js';

function values(text: string): Map<string, string> {
  const loaded = configFromYaml(text);
  if (!loaded.ok) throw new Error(loaded.error);
  return new Map(loaded.values);
}

test('top-level keys are the flags\' names; lists and nested TLS objects become flag values', (t) => {
  const got = values([
    'name: n1', 'data-dir: /tmp/x', 'snapshot-count: 7', 'pre-vote: yes', 'heartbeat-interval: 0x20',
    'log-outputs: [stderr, /tmp/log]', 'listen-client-urls: http://127.0.0.1:1,http://127.0.0.1:2',
    'client-transport-security:', '  cert-file: c.pem', '  client-cert-auth: true',
    'peer-transport-security:', '  trusted-ca-file: ca.pem', '  auto-tls: true',
  ].join('\n'));
  t.deepEqual(Object.fromEntries(got), {
    name: 'n1', 'data-dir': '/tmp/x', 'snapshot-count': '7', 'pre-vote': 'true', 'heartbeat-interval': '32',
    'log-outputs': 'stderr,/tmp/log', 'listen-client-urls': 'http://127.0.0.1:1,http://127.0.0.1:2',
    'cert-file': 'c.pem', 'client-cert-auth': 'true', 'peer-trusted-ca-file': 'ca.pem', 'peer-auto-tls': 'true',
  });
});

test('unknown keys are ignored (and reported to the caller); keys match case-insensitively', (t) => {
  const loaded = configFromYaml('bogus-key: 7\nSnapshot-Count: 9\nclient-crl-file: x.crl\n');
  if (!loaded.ok) return t.fail(loaded.error);
  t.deepEqual(Object.fromEntries(loaded.values), { 'snapshot-count': '9' });
  t.deepEqual(loaded.ignoredKeys, ['bogus-key', 'client-crl-file']);
});

test('a number or bool is text where etcd\'s field is a string; a null keeps the default', (t) => {
  t.deepEqual(Object.fromEntries(values('name: 123\ninitial-cluster-token: true\nwal-dir: ~\n')), { name: '123', 'initial-cluster-token': 'true' });
});

test('durations are integers of nanoseconds, as Go\'s JSON has them', (t) => {
  t.is(values('grpc-keepalive-interval: 3000000000\n').get('grpc-keepalive-interval'), '3000000000ns');
});

test('a value of the wrong type: Go\'s text, the first key in sorted order', (t) => {
  const prefix = 'error unmarshaling JSON: while decoding JSON: json: ';
  for (const [text, error] of [
    ['grpc-keepalive-min-time: 5s\n', 'cannot unmarshal string into Go struct field configYAML.grpc-keepalive-min-time of type time.Duration'],
    ['snapshot-count: abc\nmax-wals: x\n', 'cannot unmarshal string into Go struct field configYAML.max-wals of type uint'],
    ['snapshot-count: abc\n', 'cannot unmarshal string into Go struct field configYAML.snapshot-count of type uint64'],
    ['snapshot-count: -1\n', 'cannot unmarshal number -1 into Go struct field configYAML.snapshot-count of type uint64'],
    ['pre-vote: 1\n', 'cannot unmarshal number into Go struct field configYAML.pre-vote of type bool'],
    ['log-outputs: stderr\n', 'cannot unmarshal string into Go struct field configYAML.log-outputs of type []string'],
    ['- a\n- b\n', 'cannot unmarshal array into Go value of type embed.configYAML'],
  ] as const) {
    t.deepEqual(configFromYaml(text), { ok: false, error: `${prefix}${error}` }, text);
  }
  const broken = configFromYaml('name: [\n');
  t.true(!broken.ok && broken.error.startsWith('error converting YAML to JSON: yaml: '));
});

test('with a config file, the other flags and the ETCD_* variables are ignored (not even checked)', (t) => {
  const files: Record<string, string> = { '/c.yaml': 'name: from-file\nsnapshot-count: 5\n' };
  const world = { env: { ETCD_NAME: 'from-env', ETCD_BOGUS: '1' }, readFile: (f: string): string => files[f] ?? '' };
  const invocation = readInvocation(['--config-file', '/c.yaml', '--name', 'from-flag'], world);
  if (invocation.kind !== 'run') return t.fail(JSON.stringify(invocation));
  t.is(invocation.flags.name, 'from-file');
  t.is(invocation.flags.snapshotCount, 5);
  t.deepEqual(invocation.notices, []);
  t.is(invocation.configFile, '/c.yaml');
  const viaEnv = readInvocation([], { env: { ETCD_CONFIG_FILE: '/c.yaml' }, readFile: world.readFile });
  t.true(viaEnv.kind === 'run' && viaEnv.flags.name === 'from-file');
});

test('a missing file is Go\'s open error, an error verifying flags', (t) => {
  const missing = readInvocation(['--config-file', '/nope.yaml'], {
    env: {}, readFile: () => { throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); },
  });
  t.deepEqual(missing, { kind: 'refused', message: 'open /nope.yaml: no such file or directory', exitCode: 1, form: 'verify', notices: [] });
});

test('a URL that does not parse in the file is etcd\'s "unexpected error setting up" (exit 1)', (t) => {
  const invocation = readInvocation(['--config-file', 'c'], { env: {}, readFile: () => 'listen-peer-urls: foo\n' });
  t.like(invocation, { kind: 'refused', exitCode: 1, message: 'unexpected error setting up listen-peer-urls: URL scheme must be http, https, unix, or unixs: foo' });
});
