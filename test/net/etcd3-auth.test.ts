// The npm `etcd3` client's auth API (1.1.2) against real etcd 3.4 and against a Tern
// member: the same scenario on each — users, roles and permissions through etcd3's own
// User/Role objects, auth turned on, clients constructed with credentials doing allowed
// and denied reads, writes, deletes and watches, wrong passwords, and token changes the
// client must ride out (it authenticates again only on "invalid auth token") — and
// every step's outcome, error class and text included, must be the same. Both servers
// start empty and see the same writes in the same order, so revisions match unaltered.
//
// How often the client authenticated is read from each server's
// grpc_server_handled_total{grpc_method="Authenticate"}: it shows a token that went
// stale was replaced, and that a permission change alone did not need a new one.
import test from 'ava';
import {
  Etcd3, EtcdAuthenticationFailedError, EtcdInvalidAuthTokenError, EtcdPermissionDeniedError, type IKeyValue, type IOptions, type Watcher,
} from 'etcd3';
import { startEtcd, startTern, type Running } from './processes.js';

/** What one step did: its value, or the class etcd3 threw and the error's text. */
type Outcome = { readonly ok: unknown } | { readonly error: string; readonly message: string };

interface Step {
  readonly label: string;
  readonly outcome: Outcome;
}

/** A watch event or a stall must show within this; generous for a loaded 2-core CI box. */
const EVENT_TIMEOUT_MS = 30_000;

/** The clients and watchers one scenario made, closed in the test's teardown. */
class Resources {
  readonly clients: Etcd3[] = [];
  readonly watchers: Watcher[] = [];

  client(endpoint: string, auth?: IOptions['auth']): Etcd3 {
    const client = new Etcd3({ hosts: endpoint, ...(auth === undefined ? {} : { auth }) });
    this.clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    // Watchers first: a closed client's live watcher would schedule reconnects forever.
    await Promise.all(this.watchers.map((w) => w.cancel().catch(() => undefined)));
    for (const client of this.clients) client.close();
  }
}

class Recorder {
  readonly steps: Step[] = [];

  async step(label: string, action: () => Promise<unknown>): Promise<void> {
    try {
      this.steps.push({ label, outcome: { ok: await action() } });
    } catch (error: unknown) {
      const e = error instanceof Error ? error : new Error(String(error));
      this.steps.push({ label, outcome: { error: e.constructor.name, message: e.message } });
    }
  }

  outcome(label: string): Outcome | undefined {
    return this.steps.find((s) => s.label === label)?.outcome;
  }
}

/** How many Authenticate calls the server has answered, from its /metrics. */
async function authenticateCount(endpoint: string): Promise<number> {
  const text = await (await fetch(`http://${endpoint}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('grpc_server_handled_total{') && line.includes('grpc_method="Authenticate"')) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

function names(items: readonly { readonly name: string }[]): string[] {
  return items.map((i) => i.name);
}

/** The next put event on `watcher`: key, value and mod revision. */
function nextPut(watcher: Watcher): Promise<[string, string, string]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('no put event within the timeout')); }, EVENT_TIMEOUT_MS);
    // `on` and not `once`: etcd3 types the events of `on` only.
    const onPut = (kv: IKeyValue): void => {
      watcher.removeListener('put', onPut);
      clearTimeout(timer);
      resolve([kv.key.toString(), kv.value.toString(), kv.mod_revision]);
    };
    watcher.on('put', onPut);
  });
}

const ALICE = { username: 'alice', password: 'alicepw' };
const ROOT = { username: 'root', password: 'rootpw' };

/** Users, roles and permissions before auth is on, through etcd3's User and Role objects. */
async function manage(r: Recorder, admin: Etcd3): Promise<void> {
  await r.step('users at first', async () => names(await admin.getUsers()));
  await r.step('roles at first', async () => names(await admin.getRoles()));
  await r.step('create root', async () => (await admin.user('root').create(ROOT.password)).name);
  await r.step('create root again', () => admin.user('root').create('again'));
  await r.step('create role root', async () => (await admin.role('root').create()).name);
  await r.step('grant role root to root', () => admin.user('root').addRole('root').then(() => 'granted'));
  await r.step('create role reader', () => admin.role('reader').create().then(() => 'created'));
  await r.step('create role reader again', () => admin.role('reader').create());
  const reader = admin.role('reader');
  await r.step('reader: read pub/*', () => reader.grant({ permission: 'Read', range: admin.range({ prefix: 'pub/' }) }).then(() => 'ok'));
  await r.step('reader: readwrite own', () => reader.grant({ permission: 'Readwrite', key: 'own' }).then(() => 'ok'));
  await r.step('reader: write drop/*', () => reader.grant({ permission: 'Write', range: admin.range({ prefix: 'drop/' }) }).then(() => 'ok'));
  await r.step('reader: read tmp', () => reader.grant({ permission: 'Read', key: 'tmp' }).then(() => 'ok'));
  await r.step('reader: revoke tmp', () => reader.revoke({ permission: 'Read', key: 'tmp' }).then(() => 'ok'));
  await r.step('reader: revoke tmp again', () => reader.revoke({ permission: 'Read', key: 'tmp' }));
  await r.step('grant to a missing role', () => admin.role('nope').grant({ permission: 'Read', key: 'x' }));
  await r.step('reader permissions', async () => (await reader.permissions())
    .map((p) => [p.permission, p.range.start.toString(), p.range.end.toString()]));
  const alice = admin.user('alice');
  await r.step('create alice', () => alice.create(ALICE.password).then(() => 'created'));
  await r.step('alice gets reader', () => alice.addRole('reader').then(() => 'granted'));
  await r.step('alice gets reader again', () => alice.addRole(reader).then(() => 'granted'));
  await r.step('alice gets a missing role', () => alice.addRole('nope'));
  await r.step('a missing user gets reader', () => admin.user('nobody').addRole('reader'));
  await r.step('alice loses a role she lacks', () => alice.removeRole('root'));
  await r.step('alice roles', async () => names(await alice.roles()));
  await r.step('alice get', async () => {
    const response = await admin.auth.userGet({ name: 'alice' });
    return { roles: response.roles, revision: response.header.revision };
  });
  await r.step('get a missing user', () => admin.auth.userGet({ name: 'nobody' }));
  const temp = admin.user('temp');
  await r.step('temp: create, join and leave reader from the role\'s side', async () => {
    await temp.create('t');
    await reader.addUser(temp);
    const before = names(await temp.roles());
    await reader.removeUser('temp');
    return [before, names(await temp.roles())];
  });
  await r.step('temp: set its password', () => temp.setPassword('t2').then(() => 'changed'));
  await r.step('temp: delete', () => temp.delete().then(() => 'deleted'));
  await r.step('temp: delete again', () => temp.delete());
  await r.step('temp: set a deleted user\'s password', () => temp.setPassword('t3'));
  await r.step('temp: roles of a deleted user', () => temp.roles());
  const tempRole = admin.role('temprole');
  await r.step('temprole: create and delete', () => tempRole.create().then(() => tempRole.delete()).then(() => 'deleted'));
  await r.step('temprole: permissions once deleted', () => tempRole.permissions());
  await r.step('temprole: delete again', () => tempRole.delete());
  await r.step('users now', async () => names(await admin.getUsers()));
  await r.step('roles now', async () => names(await admin.getRoles()));
}

/** Keys written before auth is on; the same puts on both servers, so the same revisions. */
async function seed(r: Recorder, admin: Etcd3): Promise<void> {
  for (const [key, value] of [['pub/a', '1'], ['own', '1'], ['secret', 's'], ['drop/x', '1'], ['drop/y', '1']] as const) {
    await r.step(`seed ${key}`, async () => (await admin.put(key).value(value)).header.revision);
  }
  await r.step('auth status (an etcd 3.5 call)', () => admin.auth.authStatus());
  await r.step('enable auth', async () => (await admin.auth.authEnable()).header.revision);
  await r.step('no credentials: get', () => admin.get('pub/a').string());
  await r.step('no credentials: put', () => admin.put('pub/a').value('x').exec());
  await r.step('no credentials: list users', () => admin.getUsers());
}

/** alice's client: what reader allows works, the rest is denied, watches included. */
async function asAlice(
  r: Recorder, options: { readonly res: Resources; readonly endpoint: string; readonly alice: Etcd3; readonly root: Etcd3 },
): Promise<Watcher | null> {
  const { res, endpoint, alice, root } = options;
  await r.step('alice: get pub/a', () => alice.get('pub/a').string());
  await r.step('alice: get pub/*', () => alice.getAll().prefix('pub/').strings());
  await r.step('alice: put pub/a', () => alice.put('pub/a').value('2').exec());
  await r.step('alice: get secret', () => alice.get('secret').string());
  await r.step('alice: get everything', () => alice.getAll().strings());
  await r.step('alice: put own', async () => (await alice.put('own').value('2')).header.revision);
  await r.step('alice: get own', () => alice.get('own').string());
  await r.step('alice: delete drop/x', async () => (await alice.delete().key('drop/x')).deleted);
  await r.step('alice: delete drop/y asking its previous value', () => alice.delete().key('drop/y').getPrevious());
  await r.step('alice: delete secret', () => alice.delete().key('secret').exec());
  await r.step('alice: txn on own', async () => (await alice.if('own', 'Value', '==', '2').then(alice.put('own').value('3')).commit()).succeeded);
  await r.step('alice: txn reading secret', () => alice.if('secret', 'Version', '>', 0).then(alice.put('own').value('4')).commit());
  await r.step('alice: list users', () => alice.getUsers());
  await r.step('alice: enable auth', () => alice.auth.authEnable());
  // In a client of its own: etcd3 1.1.2 leaves its attach queue waiting on a refused
  // watch, so no later watch on that client's stream is ever created.
  await r.step('alice: watch secret', () => res.client(endpoint, ALICE).watch().key('secret').create());
  let watcher: Watcher | null = null;
  await r.step('alice: watch pub/*, root puts pub/b', async () => {
    watcher = await alice.watch().prefix('pub/').create();
    res.watchers.push(watcher);
    const event = nextPut(watcher);
    await root.put('pub/b').value('1');
    return event;
  });
  return watcher;
}

/** Passwords that do not match, and a user that does not exist. */
async function badLogins(r: Recorder, res: Resources, endpoint: string): Promise<void> {
  await r.step('wrong password: get', () => res.client(endpoint, { username: 'alice', password: 'wrong' }).get('pub/a').string());
  await r.step('no such user: get', () => res.client(endpoint, { username: 'ghost', password: 'x' }).get('pub/a').string());
  // A watch whose stream cannot authenticate never settles: etcd3 retries the stream
  // with backoff and tells the watcher through 'disconnected'. Cancelled at once: its
  // retries would add Authenticate calls to the counts below.
  await r.step('wrong password: watch', async () => {
    const client = new Etcd3({ hosts: endpoint, auth: { username: 'alice', password: 'wrong' } });
    const watcher = client.watch().key('pub/a').watcher();
    try {
      const error = await new Promise<Error>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error('the watcher never heard of its stream failing')); }, EVENT_TIMEOUT_MS);
        watcher.on('disconnected', (e) => { clearTimeout(timer); resolve(e); });
      });
      return [error.constructor.name, error.message];
    } finally {
      await watcher.cancel();
      client.close();
    }
  });
}

/**
 * Token changes under a live client. A permission change bumps the auth revision but a
 * simple token stands for its user at the current revision, so alice goes on with her
 * token; a password change, a deleted user and auth turned off forget tokens, and
 * etcd3 authenticates again on "invalid auth token".
 */
async function tokenChanges(
  r: Recorder, options: { readonly res: Resources; readonly endpoint: string; readonly alice: Etcd3; readonly root: Etcd3; readonly admin: Etcd3; readonly watcher: Watcher | null },
): Promise<void> {
  const { endpoint, alice, root, admin } = options;
  const authentications = async (label: string, action: () => Promise<unknown>): Promise<void> => {
    const before = await authenticateCount(endpoint);
    await r.step(label, action);
    r.steps.push({ label: `${label}: authentications`, outcome: { ok: (await authenticateCount(endpoint)) - before } });
  };
  await r.step('root: list users', async () => names(await root.getUsers()));
  await r.step('root: reader may read secret', () => root.role('reader').grant({ permission: 'Read', key: 'secret' }).then(() => 'ok'));
  await authentications('alice: get secret once granted', () => alice.get('secret').string());
  await r.step('root: reader may not read secret', () => root.role('reader').revoke({ permission: 'Read', key: 'secret' }).then(() => 'ok'));
  await authentications('alice: get secret once revoked', () => alice.get('secret').string());
  await r.step('root: alice loses reader', () => root.user('alice').removeRole('reader').then(() => 'ok'));
  await authentications('alice: get pub/a without reader', () => alice.get('pub/a').string());
  await r.step('root: alice gets reader back', () => root.user('alice').addRole('reader').then(() => 'ok'));
  await authentications('alice: get pub/a with reader', () => alice.get('pub/a').string());

  await r.step('root: alice\'s password changes', () => root.user('alice').setPassword('alicepw2').then(() => 'ok'));
  await authentications('alice (old password): get pub/a', () => alice.get('pub/a').string());
  const renewed = options.res.client(endpoint, { username: 'alice', password: 'alicepw2' });
  await authentications('alice (new password): get pub/a', () => renewed.get('pub/a').string());
  if (options.watcher !== null) {
    const watcher = options.watcher;
    // A watch stream's token is checked when a watch is created on it, not again.
    await r.step('alice\'s old watch after the password change', async () => {
      const event = nextPut(watcher);
      await root.put('pub/c').value('1');
      return event;
    });
    await r.step('alice: a new watch on the stream with the forgotten token', () => alice.watch().key('pub/a').create());
  }
  await r.step('root: alice\'s password back', () => root.user('alice').setPassword(ALICE.password).then(() => 'ok'));
  await authentications('alice: get pub/a with her password back', () => alice.get('pub/a').string());

  await r.step('root: disable auth', async () => (await root.auth.authDisable()).header.revision);
  await authentications('alice: get pub/a with auth off', () => alice.get('pub/a').string());
  await r.step('no credentials: get pub/a with auth off', () => admin.get('pub/a').string());
  await r.step('no credentials: enable auth', async () => (await admin.auth.authEnable()).header.revision);
  await authentications('alice: get pub/a with auth on again', () => alice.get('pub/a').string());
  await authentications('root: list roles with auth on again', async () => names(await root.getRoles()));

  await r.step('root: delete alice', () => root.user('alice').delete().then(() => 'deleted'));
  await authentications('alice: get pub/a once deleted', () => alice.get('pub/a').string());
  await r.step('root: delete reader', () => root.role('reader').delete().then(() => 'deleted'));
  await r.step('root: reader permissions once deleted', () => root.role('reader').permissions());
  await r.step('root: users at the end', async () => names(await root.getUsers()));
  await r.step('root: roles at the end', async () => names(await root.getRoles()));
  await r.step('root: disable auth at the end', () => root.auth.authDisable().then(() => 'disabled'));
}

async function scenario(server: Running, res: Resources): Promise<Recorder> {
  const r = new Recorder();
  const admin = res.client(server.endpoint);
  await manage(r, admin);
  await seed(r, admin);
  const alice = res.client(server.endpoint, ALICE);
  const root = res.client(server.endpoint, ROOT);
  const watcher = await asAlice(r, { res, endpoint: server.endpoint, alice, root });
  await badLogins(r, res, server.endpoint);
  await tokenChanges(r, { res, endpoint: server.endpoint, alice, root, admin, watcher });
  return r;
}

test('etcd3\'s users, roles, permissions and credentials behave on Tern as on etcd', async (t) => {
  const [ternResources, etcdResources] = [new Resources(), new Resources()];
  const started: Running[] = [];
  t.teardown(async () => {
    await Promise.all([ternResources.close(), etcdResources.close()]);
    await Promise.all(started.map((s) => s.stop()));
  });
  // Each kept as soon as it runs, so it is stopped even if the other fails to start.
  const keep = (running: Running): Running => { started.push(running); return running; };
  const [tern, etcd] = await Promise.all([startTern().then(keep), startEtcd().then(keep)]);
  const [onTern, onEtcd] = await Promise.all([scenario(tern, ternResources), scenario(etcd, etcdResources)]);

  // Step by step, so a difference is reported with its step's label.
  t.deepEqual(onTern.steps.map((s) => s.label), onEtcd.steps.map((s) => s.label));
  for (const [i, step] of onEtcd.steps.entries()) t.deepEqual(onTern.steps[i]?.outcome, step.outcome, step.label);

  // What an application relies on, asserted on both (so a misstep both share is caught too).
  const denied = { error: EtcdPermissionDeniedError.name };
  const refused = { error: EtcdAuthenticationFailedError.name };
  const expected: readonly (readonly [string, { readonly ok: unknown } | { readonly error: string }])[] = [
    ['alice: get pub/a', { ok: '1' }],
    ['alice: put pub/a', denied],
    ['alice: get secret', denied],
    ['alice: put own', { ok: '7' }],
    ['alice: delete drop/y asking its previous value', denied],
    ['alice: watch secret', denied],
    ['alice: watch pub/*, root puts pub/b', { ok: ['pub/b', '1', '10'] }],
    ['wrong password: get', refused],
    ['no such user: get', refused],
    ['alice: get secret once granted', { ok: 's' }],
    // A permission change alone: the token still works, no new one.
    ['alice: get secret once granted: authentications', { ok: 0 }],
    ['alice: get secret once revoked', denied],
    // A forgotten token: etcd3 authenticates again, once.
    ['alice (old password): get pub/a', refused],
    ['alice (old password): get pub/a: authentications', { ok: 1 }],
    ['alice: a new watch on the stream with the forgotten token', { error: EtcdInvalidAuthTokenError.name }],
    ['alice: get pub/a with her password back', { ok: '1' }],
    ['alice: get pub/a with auth on again', { ok: '1' }],
    ['alice: get pub/a with auth on again: authentications', { ok: 1 }],
    ['alice: get pub/a once deleted', refused],
  ];
  for (const [name, r] of [['tern', onTern], ['etcd', onEtcd]] as const) {
    for (const [label, want] of expected) {
      const got = r.outcome(label);
      const seen = got !== undefined && 'error' in got ? { error: got.error } : got;
      t.deepEqual(seen, want, `${name}: ${label}`);
    }
  }
});
