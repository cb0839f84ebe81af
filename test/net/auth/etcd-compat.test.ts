// Against real etcd 3.4: JWTs etcd signs verify in Tern's provider and equal Tern's byte
// for byte where the signature is deterministic (RS, HS); tokens Tern signs are accepted
// by etcd; the bcrypt hash etcd stores (read out of its snapshot) verifies here and is
// what Tern computes for the same salt; and the --auth-token refusals (texts and exit
// codes) are etcd's. Every etcd started here is stopped, also on failure.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import bcrypt from 'bcryptjs';
import { parseFlags } from '../../../net/config/flags.js';
import { JwtTokens } from '../../../net/auth/jwtTokens.js';
import { hashPassword, passwordMatches } from '../../../net/auth/passwords.js';
import { tokenProviderFor } from '../../../net/auth/tokenProviders.js';
import { etcdctl, freePort, startEtcd, type Running } from '../processes.js';
import { ecPair, hmacSecret, rsaPair, type PemPair } from './keys.js';

/** 80 bytes: etcd 3.4 (Go's bcrypt) uses the first 72. */
const PASSWORD = `${'p'.repeat(72)}-and-more`;

interface KeyDir {
  readonly dir: string;
  readonly priv: string;
  readonly pub: string;
  cleanup(): void;
}

function keyDir(pair: PemPair): KeyDir {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-jwt-'));
  const [priv, pub] = [path.join(dir, 'priv.pem'), path.join(dir, 'pub.pem')];
  writeFileSync(priv, pair.privateKey);
  writeFileSync(pub, pair.publicKey);
  return { dir, priv, pub, cleanup: () => { rmSync(dir, { recursive: true, force: true }); } };
}

/** Tern's provider for the same --auth-token etcd is given. */
function ternProvider(spec: string): JwtTokens {
  const parsed = parseFlags(['--auth-token', spec]);
  if (!parsed.ok) throw new Error(parsed.error);
  const made = tokenProviderFor(parsed.flags.auth, (file) => readFileSync(file));
  if (!made.ok) throw new Error(made.error);
  if (!(made.provider instanceof JwtTokens)) throw new Error('not a JWT provider');
  return made.provider;
}

async function gateway(etcd: Running, route: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const response = await fetch(`http://${etcd.endpoint}/v3/${route}`, {
    method: 'POST', body: JSON.stringify(body), headers: token === undefined ? {} : { Authorization: token },
  });
  return await response.json() as Record<string, unknown>;
}

const put = (etcd: Running, token: string): Promise<Record<string, unknown>> =>
  gateway(etcd, 'kv/put', { key: Buffer.from('k').toString('base64'), value: Buffer.from('v').toString('base64') }, token);

const claimsOf = (token: string): { exp: number; revision: number; username: string } =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number; revision: number; username: string };

/** etcd with --auth-token `spec`, a root user with PASSWORD and auth on; stopped when `body` ends. */
async function withAuthEtcd(spec: string, body: (etcd: Running) => Promise<void>): Promise<void> {
  const etcd = await startEtcd({ extraArgs: ['--auth-token', spec] });
  try {
    const added = await etcdctl(etcd.endpoint, ['user', 'add', `root:${PASSWORD}`]);
    if (added.code !== 0) throw new Error(added.stderr);
    const enabled = await etcdctl(etcd.endpoint, ['auth', 'enable']);
    if (enabled.code !== 0) throw new Error(enabled.stderr);
    await body(etcd);
  } finally {
    await etcd.stop();
  }
}

const CASES: readonly { alg: string; pair: () => PemPair; deterministic: boolean }[] = [
  { alg: 'RS256', pair: rsaPair, deterministic: true },
  { alg: 'PS384', pair: rsaPair, deterministic: false },
  { alg: 'ES256', pair: () => ecPair('P-256'), deterministic: false },
  { alg: 'ES512', pair: () => ecPair('P-521'), deterministic: false },
  { alg: 'HS256', pair: hmacSecret, deterministic: true },
];

for (const { alg, pair, deterministic } of CASES) {
  test.serial(`${alg}: etcd's tokens verify in Tern, Tern's are accepted by etcd`, async (t) => {
    const keys = keyDir(pair());
    const spec = `jwt,sign-method=${alg},priv-key=${keys.priv}${alg.startsWith('HS') ? '' : `,pub-key=${keys.pub}`},ttl=10m`;
    try {
      await withAuthEtcd(spec, async (etcd) => {
        const tern = ternProvider(spec);
        const answer = await gateway(etcd, 'auth/authenticate', { name: 'root', password: PASSWORD });
        const etcdToken = String(answer['token']);
        const claims = claimsOf(etcdToken);
        t.deepEqual(tern.info(etcdToken, { nowMs: Date.now(), currentRevision: 0, appliedIndex: 0 }), { user: 'root', revision: claims.revision });
        const ours = tern.sign({ user: 'root', authRevision: claims.revision, index: 1, simplePrefix: '', nowMs: claims.exp * 1000 - 600_000 });
        if (deterministic) t.is(ours, etcdToken, 'the same bytes as etcd signs');
        else t.deepEqual(ours.split('.').slice(0, 2), etcdToken.split('.').slice(0, 2), 'the same header and claims');
        t.false('error' in await put(etcd, ours), 'etcd accepts a token Tern signed');
        const forged = `${ours.split('.').slice(0, 2).join('.')}.${Buffer.alloc(64, 1).toString('base64url')}`;
        t.regex(String((await put(etcd, forged))['error']), /invalid auth token/, 'and refuses a forged one, as Tern does');
      });
    } finally {
      keys.cleanup();
    }
  });
}

test.serial('etcd keeps the bcrypt hash Tern computes; only 72 bytes count in both', async (t) => {
  const keys = keyDir(hmacSecret());
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-snap-'));
  try {
    await withAuthEtcd(`jwt,sign-method=HS256,priv-key=${keys.priv}`, async (etcd) => {
      const truncatedSame = `${PASSWORD.slice(0, 72)}anything else`;
      t.is(typeof (await gateway(etcd, 'auth/authenticate', { name: 'root', password: truncatedSame }))['token'], 'string', 'etcd ignores bytes past 72');
      const file = path.join(dir, 'snap.db');
      const saved = await etcdctl(etcd.endpoint, ['--user', `root:${PASSWORD}`, 'snapshot', 'save', file]);
      t.is(saved.code, 0, saved.stderr);
      const hash = /\$2a\$10\$[./A-Za-z0-9]{53}/.exec(readFileSync(file).toString('latin1'))?.[0] ?? '';
      t.true(await passwordMatches(PASSWORD, hash), `etcd's hash ${hash} verifies`);
      t.true(await passwordMatches(truncatedSame, hash));
      t.false(await passwordMatches(PASSWORD.slice(0, 71), hash));
      const salt = Uint8Array.from(bcrypt.decodeBase64(hash.slice(7, 29), 16));
      t.is(await hashPassword(PASSWORD, { cost: 10, salt }), hash, 'Tern computes etcd\'s hash from its salt');
    });
  } finally {
    keys.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Runs etcd with `args` to its exit (it refuses them): code and output. A free port
 * taken by another process before etcd binds it is tried again on fresh ports.
 */
async function etcdRefusal(args: readonly string[]): Promise<{ code: number; output: string }> {
  for (let attempt = 1; ; attempt++) {
    const run = await etcdRun(args);
    if (attempt === 3 || !run.output.includes('bind: address already in use')) return run;
  }
}

async function etcdRun(args: readonly string[]): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-etcd-'));
  const [client, peer] = [await freePort(), await freePort()];
  try {
    return await new Promise((resolve) => {
      execFile('etcd', ['--data-dir', path.join(dir, 'data'), '--listen-client-urls', `http://127.0.0.1:${client}`,
        '--advertise-client-urls', `http://127.0.0.1:${client}`, '--listen-peer-urls', `http://127.0.0.1:${peer}`, ...args],
      { timeout: 20_000 }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, output: stdout + stderr });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What Tern does with `args`: the flag parser, then the token provider made at start. */
function ternRefusal(args: readonly string[]): { code: number; error: string } {
  const parsed = parseFlags(args);
  if (!parsed.ok) return { code: parsed.exitCode, error: parsed.error };
  const made = tokenProviderFor(parsed.flags.auth, (file) => readFileSync(file));
  return made.ok ? { code: 0, error: '' } : { code: made.exitCode, error: made.error };
}

test.serial('bad auth flags and key files: etcd\'s exit code and texts', async (t) => {
  const rsa = keyDir(rsaPair());
  const ec = keyDir(ecPair('P-256'));
  const ec384 = keyDir(ecPair('P-384'));
  const junk = path.join(rsa.dir, 'junk.pem');
  writeFileSync(junk, 'not a key\n');
  mkdirSync(path.join(rsa.dir, 'adir'));
  try {
    for (const args of [
      ['--bcrypt-cost=abc'], ['--bcrypt-cost=-1'], ['--bcrypt-cost=99999999999999999999'], ['--auth-token-ttl=x'],
      ['--auth-token=foo'], ['--auth-token=simple,foo'], ['--auth-token=jwt,sign-method=XX'], ['--auth-token=jwt,sign-method=RS256,ttl=5d'],
      ['--auth-token=jwt,sign-method=RS256,priv-key=a,priv-key=b'],
      ['--auth-token=jwt,sign-method=RS256'], ['--auth-token=jwt,sign-method=HS256'],
      ['--auth-token=jwt,sign-method=EdDSA'], ['--auth-token=jwt,sign-method=none'],
      [`--auth-token=jwt,sign-method=RS256,priv-key=${path.join(rsa.dir, 'nofile')}`],
      [`--auth-token=jwt,sign-method=RS256,priv-key=${path.join(rsa.dir, 'adir')}`],
      [`--auth-token=jwt,sign-method=RS256,priv-key=${junk}`],
      [`--auth-token=jwt,sign-method=RS256,priv-key=${ec.priv}`],
      [`--auth-token=jwt,sign-method=ES256,priv-key=${rsa.priv}`],
      [`--auth-token=jwt,sign-method=RS256,pub-key=${rsa.priv}`],
      [`--auth-token=jwt,sign-method=ES256,pub-key=${rsa.pub}`],
      [`--auth-token=jwt,sign-method=ES256,priv-key=${ec.priv},pub-key=${ec384.pub}`],
    ]) {
      const [etcd, tern] = [await etcdRefusal(args), ternRefusal(args)];
      t.is(tern.code, etcd.code, `${args.join(' ')}: exit code`);
      // Tern's text is etcd's fatal line, then in parentheses the reason etcd logs before it.
      // A usage error is etcd's first line as it is; a fatal one ends etcd's `C | etcdmain:` line.
      const lines = etcd.output.split('\n');
      const [fatal = '', reason] = /^(auth: invalid auth options) \((.*)\)$/.exec(tern.error)?.slice(1) ?? [tern.error];
      const said = (line: string): boolean => line === fatal || line.endsWith(` C | etcdmain: ${fatal}`);
      const explained = (line: string): boolean => line.endsWith(` E | auth: ${reason ?? ''}`);
      t.true(lines.some(said) && (reason === undefined || lines.some(explained)), `${args.join(' ')}: ${tern.error}\n${etcd.output.slice(-600)}`);
    }
  } finally {
    for (const dir of [rsa, ec, ec384]) dir.cleanup();
  }
});
