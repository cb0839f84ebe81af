// Real etcdctl against real etcd 3.4 and against Tern with users, roles, permissions and
// auth turned on and off: every step's output, error text and exit code must be the
// same (normalized as the KV differential is, plus lease ids, which etcd draws at random).
import test, { type ExecutionContext } from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { normalize } from './differential.js';
import { etcdctl, startEtcd, startTern, startTernCluster, type Outcome } from './processes.js';

const ROOT = ['--user', 'root:rootpw'];
const ALICE = ['--user', 'alice:alicepw'];
const LONG_PASSWORD = 'x'.repeat(80);

interface Step {
  readonly args: readonly string[];
  readonly input?: string;
}

const SETUP: readonly Step[] = [
  { args: ['auth', 'enable'] }, // no root user yet
  { args: ['user', 'add', 'root:rootpw'] },
  { args: ['user', 'add', 'root:again'] },
  { args: ['user', 'add', ':nameless'] },
  { args: ['role', 'add', 'root'] },
  { args: ['auth', 'enable'] }, // root lacks role root
  { args: ['user', 'grant-role', 'root', 'root'] },
  { args: ['user', 'add', 'alice:alicepw'] },
  { args: ['user', 'add', 'bob', '--no-password'] },
  { args: ['user', 'add', `long:${LONG_PASSWORD}`] },
  { args: ['role', 'add', 'ab'] },
  { args: ['role', 'add', 'ab'] },
  { args: ['role', 'grant-permission', 'ab', 'readwrite', 'a', 'c'] },
  { args: ['role', 'grant-permission', 'ab', 'read', 'pre/', '--prefix'] },
  { args: ['role', 'grant-permission', 'ab', 'write', 'w', '--from-key'] },
  { args: ['role', 'grant-permission', 'ab', 'read', 'solo'] },
  { args: ['role', 'grant-permission', 'nope', 'read', 'x'] },
  { args: ['role', 'grant-permission', 'ab', 'bogus', 'x'] },
  { args: ['user', 'grant-role', 'alice', 'ab'] },
  { args: ['user', 'grant-role', 'alice', 'nope'] },
  { args: ['user', 'grant-role', 'nobody', 'ab'] },
  { args: ['user', 'grant-role', 'bob', 'ab'] },
  { args: ['user', 'list'] },
  { args: ['user', 'get', 'alice'] },
  { args: ['user', 'get', 'alice', '--detail'] },
  { args: ['user', 'get', 'nobody'] },
  { args: ['role', 'list'] },
  { args: ['role', 'get', 'ab'] },
  { args: ['role', 'get', 'nope'] },
  { args: ['put', 'b', 'before-auth'] },
  { args: ['auth', 'enable'] },
];

const ENABLED: readonly Step[] = [
  { args: ['get', 'b'] },
  { args: ['put', 'b', '1'] },
  { args: [...ALICE, 'put', 'b', '1'] },
  { args: [...ALICE, 'get', 'b'] },
  { args: [...ALICE, 'get', 'a', 'c', '-w', 'json'] },
  { args: [...ALICE, 'put', 'z', '1'] },
  { args: [...ALICE, 'get', 'z'] },
  { args: [...ALICE, 'get', 'a', '--prefix'] },
  { args: [...ALICE, 'get', 'pre/x'] },
  { args: [...ALICE, 'put', 'pre/x', '1'] },
  { args: [...ALICE, 'put', 'wz', '1'] },
  { args: [...ALICE, 'get', 'wz'] },
  { args: [...ALICE, 'get', 'solo'] },
  { args: [...ALICE, 'del', 'b'] },
  { args: [...ALICE, 'put', 'b', '2'] },
  { args: [...ALICE, 'del', 'a', 'c', '--prev-kv'] },
  { args: [...ALICE, 'del', 'wz', '--prev-kv'] },
  { args: [...ALICE, 'txn'], input: 'version("b") = "0"\n\nput b 3\n\nget b\n\n' },
  { args: [...ALICE, 'txn'], input: 'version("z") = "0"\n\nput b 3\n\n\n' },
  { args: [...ALICE, 'txn'], input: '\nput b 4\n\nput z 4\n\n' },
  { args: [...ALICE, 'watch', 'z'] },
  { args: [...ALICE, 'user', 'list'] },
  { args: [...ALICE, 'user', 'get', 'alice'] },
  { args: [...ALICE, 'user', 'get', 'root'] },
  { args: [...ALICE, 'role', 'get', 'ab'] },
  { args: [...ALICE, 'role', 'get', 'root'] },
  { args: [...ALICE, 'role', 'add', 'x'] },
  { args: [...ALICE, 'compaction', '2'] },
  { args: [...ALICE, 'endpoint', 'hashkv'] },
  { args: [...ALICE, 'defrag'] },
  { args: [...ALICE, 'member', 'add', 'x', '--peer-urls', 'http://127.0.0.1:1'] },
  { args: ['--user', 'alice:wrong', 'member', 'list', '-w', 'json'] },
  { args: [...ROOT, 'endpoint', 'hashkv', '-w', 'json'] },
  { args: ['--user', 'alice:wrong', 'get', 'b'] },
  { args: ['--user', 'nobody:pw', 'get', 'b'] },
  { args: ['--user', 'bob:any', 'get', 'b'] },
  { args: ['--user', `long:${'x'.repeat(72)}yy`, 'get', 'b'] }, // bcrypt reads 72 bytes
  { args: [...ROOT, 'lease', 'grant', '100'] },
  { args: [...ROOT, 'put', 'z', 'leased', '--lease', '$LEASE'] },
  { args: [...ALICE, 'lease', 'revoke', '$LEASE'] },
  { args: [...ROOT, 'lease', 'revoke', '$LEASE'] },
  { args: [...ROOT, 'user', 'revoke-role', 'root', 'root'] },
  { args: [...ROOT, 'user', 'delete', 'root'] },
  { args: [...ROOT, 'role', 'delete', 'root'] },
  { args: [...ROOT, 'role', 'revoke-permission', 'ab', 'a'] },
  { args: [...ROOT, 'role', 'revoke-permission', 'ab', 'a', 'c'] },
  { args: [...ALICE, 'put', 'b', '5'] },
  { args: [...ROOT, 'role', 'revoke-permission', 'ab', 'pre/', '--prefix'] },
  { args: [...ROOT, 'role', 'get', 'ab'] },
  { args: [...ROOT, 'user', 'revoke-role', 'alice', 'root'] },
  { args: [...ROOT, 'user', 'revoke-role', 'alice', 'ab'] },
  { args: [...ROOT, 'user', 'get', 'alice'] },
  { args: [...ROOT, 'user', 'passwd', 'alice', '--interactive=false'], input: 'newpw\n' },
  { args: [...ALICE, 'get', 'b'] },
  { args: ['--user', 'alice:newpw', 'get', 'b'] },
  { args: [...ROOT, 'user', 'delete', 'alice'] },
  { args: [...ROOT, 'user', 'delete', 'alice'] },
  { args: [...ROOT, 'role', 'delete', 'ab'] },
  { args: [...ROOT, 'role', 'list'] },
  { args: [...ROOT, 'user', 'list'] },
  { args: [...ROOT, 'get', 'b'] },
  { args: [...ROOT, 'auth', 'disable'] },
  { args: ['get', 'b'] },
  { args: ['auth', 'disable'] },
  { args: ['user', 'delete', 'root'] },
  { args: ['user', 'list'] },
];

/** One side's run: lease ids it granted stand in for `$LEASE` in later steps. */
class Side {
  private lease = '0';
  constructor(readonly endpoint: string) {}

  async run(step: Step): Promise<Outcome> {
    const args = step.args.map((a) => (a === '$LEASE' ? this.lease : a));
    const outcome = await etcdctl(this.endpoint, args, step.input);
    const granted = /lease ([0-9a-f]+) granted/.exec(outcome.stdout);
    if (granted?.[1] !== undefined) this.lease = granted[1];
    return outcome;
  }

  normalized(outcome: Outcome): string {
    return normalize(outcome, this.endpoint).replaceAll(this.lease, 'LEASE');
  }
}

async function compareSteps(t: ExecutionContext, steps: readonly Step[], etcd: Side, tern: Side): Promise<void> {
  for (const step of steps) {
    const fromEtcd = etcd.normalized(await etcd.run(step));
    const fromTern = tern.normalized(await tern.run(step));
    t.is(fromTern, fromEtcd, `etcdctl ${step.args.join(' ')}`);
  }
}

test('etcdctl cannot tell Tern from etcd on users, roles, permissions and auth', async (t) => {
  const etcd = await startEtcd();
  const tern = await startTern();
  try {
    const sides = [new Side(etcd.endpoint), new Side(tern.endpoint)] as const;
    await compareSteps(t, [...SETUP, ...ENABLED], ...sides);
  } finally {
    await etcd.stop();
    await tern.stop();
  }
});

for (const tokens of ['simple', 'jwt'] as const) {
test(`a ${tokens} token made on one member of a Tern cluster is honoured by the others, with permissions replicated`, async (t) => {
  const keys = jwtKeyFiles();
  const tern = await startTernCluster(3, tokens === 'jwt' ? ['--auth-token', `jwt,pub-key=${keys.pub},priv-key=${keys.priv},sign-method=RS256,ttl=5m`] : []);
  try {
    const [first, second, third] = tern.members.map((m) => m.endpoint);
    if (first === undefined || second === undefined || third === undefined) throw new Error('three members expected');
    for (const args of [
      ['user', 'add', 'root:rootpw'], ['user', 'grant-role', 'root', 'root'], ['user', 'add', 'alice:alicepw'],
      ['role', 'add', 'ab'], ['role', 'grant-permission', 'ab', 'readwrite', 'a', 'c'], ['user', 'grant-role', 'alice', 'ab'],
      ['auth', 'enable'],
    ]) t.is((await etcdctl(first, args)).code, 0, args.join(' '));
    // etcdctl with several endpoints authenticates on one member and may send the put to another.
    const all = `${first},${second},${third}`;
    t.is((await etcdctl(all, [...ALICE, 'put', 'b', '1'])).code, 0);
    t.regex((await etcdctl(third, [...ALICE, 'get', 'b'])).stdout, /^b\n1\n$/);
    t.regex((await etcdctl(second, [...ALICE, 'put', 'z', '1'])).stderr, /etcdserver: permission denied/);
    t.regex((await etcdctl(second, ['get', 'b'])).stderr, /etcdserver: user name is empty/);
  } finally {
    await tern.stop();
    keys.remove();
  }
});
}

/** An RSA key pair in PEM files, for --auth-token jwt. */
function jwtKeyFiles(): { pub: string; priv: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-jwt-'));
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pub = path.join(dir, 'jwt.pub');
  const priv = path.join(dir, 'jwt.key');
  writeFileSync(pub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(priv, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { pub, priv, remove: () => { rmSync(dir, { recursive: true, force: true }); } };
}
