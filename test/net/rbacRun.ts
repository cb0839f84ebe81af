// Runs drawn scenarios against a real etcd and a Tern member side by side: the users
// are made once, each run starts from a known state (no keys, no leases, no roles but
// root's), the setup and then every step go to both servers, and each answer pair is
// compared as rbacOutcome.ts normalizes it. The transcript of a run shows every call
// with both answers, so a failing run explains itself.
import { EtcdGrpc, type Answer } from './rbacClient.js';
import { bytes, requestCall, setupCalls, type Call } from './rbacCalls.js';
import { USERS, type Request, type Scenario, type Step, type Who } from './rbacModel.js';
import { describeProbe, fixedEtcdAnswer, isDenied, nestedProbes } from './rbacNested.js';
import { normalize, type Normalizing } from './rbacOutcome.js';

export interface Side {
  readonly name: 'etcd' | 'tern';
  readonly client: EtcdGrpc;
  /** Each sender's token (null: none sent). */
  readonly tokens: ReadonlyMap<Who, string | null>;
}

const ROOT_PASSWORD = 'rootpw';
const password = (user: string): string => `${user}-pw`;
/**
 * Shaped like a simple token (16 letters, a dot, an index) but issued by no server. Its
 * index (1) is applied on both: a token naming a later index is held until that index
 * applies, by etcd until the client's deadline and by Tern for its request timeout —
 * a wait, not a decision, so the differential leaves it out.
 */
const BOGUS_TOKEN = 'abcdefghijklmnop.1';

function mustBeOk(answer: Answer, what: string): Record<string, unknown> {
  if (!answer.ok) throw new Error(`${what}: code ${answer.code} ${answer.details}`);
  return answer.body;
}

function send(client: EtcdGrpc, call: Call, token: string | null): Promise<Answer> {
  return call.kind === 'watch' ? client.watchCreate(call.body, token) : client.unary(call.service, call.method, call.body, token);
}

/** Auth on with root (role root) and the pool of users, each logged in once. */
export async function bootstrap(name: Side['name'], endpoint: string): Promise<Side> {
  const client = new EtcdGrpc(endpoint);
  const auth = async (method: string, body: object, token: string | null = null): Promise<Record<string, unknown>> =>
    mustBeOk(await client.unary('auth', method, body, token), `${name} ${method}`);
  await auth('UserAdd', { name: 'root', password: ROOT_PASSWORD });
  await auth('UserGrantRole', { user: 'root', role: 'root' });
  for (const user of USERS) await auth('UserAdd', { name: user, password: password(user) });
  await auth('AuthEnable', {});
  const tokens = new Map<Who, string | null>([['anonymous', null], ['bogus', BOGUS_TOKEN]]);
  const logins: readonly (readonly [Who, string])[] = [['root', ROOT_PASSWORD], ...USERS.map((u) => [u, password(u)] as const)];
  for (const [who, pw] of logins) {
    const body = await auth('Authenticate', { name: who, password: pw });
    if (typeof body.token !== 'string' || body.token === '') throw new Error(`${name}: no token for ${who}`);
    tokens.set(who, body.token);
  }
  return { name, client, tokens };
}

function token(side: Side, who: Who): string | null {
  const t = side.tokens.get(who);
  if (t === undefined) throw new Error(`${side.name} has no token entry for ${who}`);
  return t;
}

/** Back to the known state, as root; answers the revision the run starts at. */
async function reset(side: Side): Promise<number> {
  const root = token(side, 'root');
  const call = async (service: 'kv' | 'lease' | 'auth', method: string, body: object): Promise<Record<string, unknown>> =>
    mustBeOk(await side.client.unary(service, method, body, root), `${side.name} reset ${method}`);
  // Key "\0" with range_end "\0": every key.
  await call('kv', 'DeleteRange', { key: bytes('\0'), range_end: bytes('\0') });
  const leases = (await call('lease', 'LeaseLeases', {})).leases as { ID: string }[];
  for (const l of leases) await call('lease', 'LeaseRevoke', { ID: l.ID });
  const roles = (await call('auth', 'RoleList', {})).roles as string[];
  for (const role of roles) {
    if (role === 'root') continue;
    // A request of the last run that outlived its client's deadline (a stall on a loaded
    // box) may delete the role between the list and here: gone is what reset wants.
    const deleted = await side.client.unary('auth', 'RoleDelete', { role }, root);
    if (!deleted.ok && deleted.details !== 'etcdserver: role name not found') mustBeOk(deleted, `${side.name} reset RoleDelete`);
  }
  const header = (await call('kv', 'Range', { key: bytes('\0'), range_end: bytes('\0'), count_only: true })).header as { revision: string };
  return Number(header.revision);
}

export interface RunReport {
  /** Steps sent (the setup's calls not counted). */
  readonly requests: number;
  readonly setupCalls: number;
  readonly differences: number;
  /** Every call with both answers; differing ones marked. */
  readonly transcript: string;
}

function how(call: Call, base: number): Normalizing {
  const method = call.kind === 'unary' ? call.method : 'Watch';
  return {
    baseRevision: base,
    statusOnly: ['Hash', 'HashKV', 'Status', 'MemberList'].includes(method),
    dropTtl: method === 'LeaseTimeToLive',
  };
}

export function describeStep(step: Step): string {
  return `as ${step.as}: ${JSON.stringify(step.request)}`;
}

/**
 * etcd's answer to a step, as the etcd with the nested-txn fix would give it
 * (rbacNested.ts): a user's txn whose nested compares or ops etcd would refuse on
 * their own is not run on etcd; its answer is derived without writing anything.
 */
async function etcdAnswer(etcd: Side, step: Step, call: Call): Promise<{ answer: Answer; note: string }> {
  const checked = (USERS as readonly Who[]).includes(step.as) || step.as === 'anonymous';
  const probes = checked && step.request.op === 'txn' ? nestedProbes(step.request) : [];
  for (const probe of probes) {
    const refusal = await send(etcd.client, probe, token(etcd, step.as));
    if (!isDenied(refusal)) continue;
    const answer = fixedEtcdAnswer(await send(etcd.client, call, BOGUS_TOKEN), refusal);
    return { answer, note: `\n      (etcd 3.4.23 does not check nested txn ops; it refuses ${describeProbe(probe)} alone, so the fixed etcd's answer is used)` };
  }
  return { answer: await send(etcd.client, call, token(etcd, step.as)), note: '' };
}

/** One scenario on both servers; every answer pair compared. */
export async function runScenario(etcd: Side, tern: Side, scenario: Scenario): Promise<RunReport> {
  const [etcdBase, ternBase] = await Promise.all([reset(etcd), reset(tern)]);
  const lines: string[] = [`run starts at revision etcd ${etcdBase}, tern ${ternBase}`];
  let differences = 0;
  const compare = async (label: string, call: Call, step: Step): Promise<void> => {
    const [fromEtcd, fromTern] = await Promise.all([etcdAnswer(etcd, step, call), send(tern.client, call, token(tern, step.as))]);
    const e = normalize(fromEtcd.answer, how(call, etcdBase));
    const t = normalize(fromTern, how(call, ternBase));
    if (e === t) {
      lines.push(`   ${label}\n      both: ${e}${fromEtcd.note}`);
      return;
    }
    differences++;
    lines.push(`>> ${label}\n      etcd: ${e}\n      tern: ${t}${fromEtcd.note}`);
  };
  const setup = setupCalls(scenario.setup);
  for (const call of setup) {
    const label = `setup as root: ${call.kind === 'unary' ? call.method : 'Watch'} ${JSON.stringify(call.body, printable)}`;
    await compare(label, call, { as: 'root', request: SETUP_MARKER });
  }
  // After the first difference the two states may differ: later answers explain nothing.
  let sent = 0;
  for (const [i, step] of scenario.steps.entries()) {
    if (differences > 0) break;
    await compare(`#${i} ${describeStep(step)}`, requestCall(step.request), step);
    sent++;
  }
  return { requests: sent, setupCalls: setup.length, differences, transcript: lines.join('\n') };
}

/** Setup calls are root's; only `as` matters for them (no nested-txn probing). */
const SETUP_MARKER: Request = { op: 'maintenance', method: 'Status' };

/** JSON.stringify replacer: Buffers as their text rather than as byte arrays. */
function printable(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer') {
    return Buffer.from((value as { data: number[] }).data).toString('latin1');
  }
  return value;
}

/**
 * A failing scenario made smaller on the live servers: drops one setup item or step at a
 * time, last first, and keeps each drop after which the run still differs (fast-check
 * cannot drop steps: every run has the full number, so that CI sends enough). At most
 * one run per item, so bounded by the scenario's size.
 */
export async function minimize(etcd: Side, tern: Side, failing: Scenario): Promise<{ scenario: Scenario; report: RunReport }> {
  let scenario = failing;
  let report = await runScenario(etcd, tern, scenario);
  if (report.differences === 0) return { scenario, report };
  const attempt = async (candidate: Scenario): Promise<boolean> => {
    const r = await runScenario(etcd, tern, candidate);
    if (r.differences === 0) return false;
    scenario = candidate;
    report = r;
    return true;
  };
  for (let i = scenario.steps.length - 1; i >= 0; i--) {
    await attempt({ ...scenario, steps: scenario.steps.filter((_, j) => j !== i) });
  }
  for (const list of ['revokes', 'userRoles', 'grants'] as const) {
    for (let i = scenario.setup[list].length - 1; i >= 0; i--) {
      const shorter = scenario.setup[list].filter((_, j) => j !== i);
      // A permission revoke names a grant by index: keep at least one grant.
      if (list === 'grants' && shorter.length === 0) continue;
      await attempt({ ...scenario, setup: { ...scenario.setup, [list]: shorter } });
    }
  }
  return { scenario, report };
}
