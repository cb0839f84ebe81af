// The auth workload (`--auth`): EtcdServer members with auth on, users whose
// permissions keep changing, and KV clients that present tokens.
//
//   setup    through Raft, one step at a time: root (user and role), users u0..u3,
//            roles r0..r2, auth enable. A step that timed out is sent again; an
//            "already exists" answer then means the first attempt applied.
//   admin    as root, under the swarm's faults: grants and revokes key-range
//            permissions on the roles and roles on the users, drawn from the seed.
//   clients  each logs in as one user (the password check is a cheap deterministic
//            stand-in for bcrypt) and issues puts, linearizable gets and txns with its
//            token; "invalid auth token" (a restarted member forgets tokens) logs in again.
//
// Every KV request is recorded with its outcome: 'allowed', the refusal's error name,
// or null when unknown (no answer, or an answer that says nothing about permissions).
// Writes carry a unique value, so the verdict (authVerdict.ts) finds their entries in the
// applied log; a read records the member's applied index when it was served.

import type { AuthRequest } from '../core/auth/authRequests.js';
import type { PermType } from '../core/auth/rangePermissions.js';
import { isEtcdError, type EtcdError, type EtcdErrorName } from '../core/errors.js';
import { fromKey } from '../core/mvcc/keys.js';
import type { NodeId } from '../core/raft/types.js';
import type { Credentials } from '../core/server/authGate.js';
import type { EtcdServer, ResponseHeader } from '../core/server/server.js';
import type { SimMember } from './cluster.js';
import { SimActor, type SimParts } from './simActor.js';

/** The auth workload's shape, drawn from the seed (world.ts). */
export interface AuthWorkloadOptions {
  /** KV clients; client i logs in as user u(i mod AUTH_USERS). */
  readonly clients: number;
  /** Keys k0..k(keys-1); at most 9, so that their names sort as their numbers. */
  readonly keys: number;
  readonly thinkMeanMs: number;
  /** Mean time between the admin's permission changes. */
  readonly adminMeanMs: number;
  /** A client gives up on an answer after this long. */
  readonly timeoutMs: number;
}

export const AUTH_USERS = 4;
const AUTH_ROLES = 3;
const ROOT = 'root';
/** After an error, before trying again. */
const RETRY_MS = 50;
const PERM_TYPES: readonly PermType[] = ['READ', 'WRITE', 'READWRITE'];

/** The password stand-in: what userAdd stores and what a login checks against. */
export const passwordHashOf = (user: string): string => `pw:${user}`;

/** Errors that decide a request's permission; any other error leaves its outcome unknown. */
const PERMISSION_ERRORS = new Set<EtcdErrorName>(['permissionDenied', 'authOldRevision', 'userEmpty']);
/** Errors after which a setup step may or may not have applied: send it again. */
const RETRY_ERRORS = new Set<EtcdErrorName>(['timeout', 'stopped', 'leaderChanged', 'notLeader', 'noLeader', 'tooManyRequests', 'invalidAuthToken']);

export type AuthOutcome = 'allowed' | EtcdErrorName;

/** One KV request a client made. */
export interface AuthOp {
  readonly kind: 'put' | 'get' | 'txn';
  readonly user: string;
  readonly member: NodeId;
  /** The key written (put, txn) or read (get). */
  readonly key: string;
  /** A txn compares this key (a read). */
  readonly compareKey?: string;
  /** Unique per write; '' for a get. */
  readonly value: string;
  outcome: AuthOutcome | null;
  /** A get: the serving member's applied index when it answered (-1: not answered). */
  servedAt: number;
}

interface Client {
  readonly user: string;
  token: string | null;
}

/** A server's answer, or null when none came before the deadline. */
type Answer<T> = ({ readonly header: ResponseHeader } & T) | EtcdError | null;
type Send<T> = (server: EtcdServer, reply: (answer: Exclude<Answer<T>, null>) => void) => void;

export class AuthWorkload extends SimActor {
  readonly ops: AuthOp[] = [];
  /** Permission and role grants/revokes that applied (answered ok). */
  permissionChanges = 0;
  logins = 0;
  setupDone = false;
  private running = false;
  private nextValue = 1;
  private readonly admin: Client = { user: ROOT, token: null };
  private readonly clients: Client[] = [];
  /** Permissions the admin granted, per role, for it to revoke later. */
  private readonly granted: { readonly role: string; readonly key: string; readonly rangeEnd: string }[] = [];
  private readonly keyNames: string[] = [];

  /** `onSetup`: the setup steps all applied (the run starts its faults then). */
  constructor(parts: SimParts, private readonly options: AuthWorkloadOptions, private readonly onSetup: () => void) {
    super(parts);
    for (let k = 0; k < options.keys; k++) this.keyNames.push(`k${k}`);
  }

  start(): void {
    this.running = true;
    this.setupStep(0);
  }

  stop(): void {
    this.running = false;
  }

  private setupSteps(): AuthRequest[] {
    const steps: AuthRequest[] = [
      { op: 'userAdd', name: ROOT, passwordHash: passwordHashOf(ROOT), noPassword: false },
      { op: 'roleAdd', name: ROOT },
      { op: 'userGrantRole', user: ROOT, role: ROOT },
    ];
    for (let u = 0; u < AUTH_USERS; u++) steps.push({ op: 'userAdd', name: `u${u}`, passwordHash: passwordHashOf(`u${u}`), noPassword: false });
    for (let r = 0; r < AUTH_ROLES; r++) steps.push({ op: 'roleAdd', name: `r${r}` });
    // A start the admin then reshapes: r0 read-write on the lower half, r1 reads everything, r2 writes k0.
    const half = `k${Math.ceil(this.options.keys / 2)}`;
    const all = `k${this.options.keys}`;
    steps.push(
      { op: 'roleGrantPermission', name: 'r0', perm: { permType: 'READWRITE', key: 'k0', rangeEnd: half } },
      { op: 'roleGrantPermission', name: 'r1', perm: { permType: 'READ', key: 'k0', rangeEnd: all } },
      { op: 'roleGrantPermission', name: 'r2', perm: { permType: 'WRITE', key: 'k0', rangeEnd: '' } },
    );
    for (let u = 0; u < AUTH_USERS; u++) steps.push({ op: 'userGrantRole', user: `u${u}`, role: `r${u % AUTH_ROLES}` });
    steps.push({ op: 'authEnable' });
    return steps;
  }

  private setupStep(step: number): void {
    const steps = this.setupSteps();
    const request = steps[step];
    if (request === undefined) {
      this.setupDone = true;
      this.onSetup();
      this.after(0, () => { this.adminNext(); });
      for (let i = 0; i < this.options.clients; i++) {
        const client: Client = { user: `u${i % AUTH_USERS}`, token: null };
        this.clients.push(client);
        this.after(0, () => { this.clientNext(client); });
      }
      return;
    }
    this.call<object>((server, reply) => { server.authApi.request(request, undefined, reply); }, (answer) => {

      const retry = answer === null || (isEtcdError(answer) && RETRY_ERRORS.has(answer.name));
      this.after(retry ? RETRY_MS : 0, () => { this.setupStep(retry ? step : step + 1); });
    });
  }

  /** Logs the client in; then `next` runs (at once after an answer, later after a failure). */
  private login(client: Client, next: () => void): void {
    const check = (hash: string, verdict: (matches: boolean) => void): void => { verdict(hash === passwordHashOf(client.user)); };
    this.call<{ readonly token: string }>((server, reply) => { server.authApi.authenticate(client.user, check, reply); }, (answer) => {
      const ok = answer !== null && !isEtcdError(answer);
      if (ok) {
        client.token = answer.token;
        this.logins++;
      }
      this.after(ok ? 0 : RETRY_MS, next);
    });
  }

  private credentials(client: Client): Credentials {
    return { token: client.token ?? '' };
  }

  /** After an answer: a token the member does not know is dropped (the next turn logs in again). */
  private noteAnswer(client: Client, answer: Answer<object>): void {
    if (answer !== null && isEtcdError(answer) && answer.name === 'invalidAuthToken') client.token = null;
  }

  private adminNext(): void {
    if (!this.running) return;
    if (this.admin.token === null) {
      this.login(this.admin, () => { this.adminNext(); });
      return;
    }
    const request = this.drawAdminRequest();
    const credentials = this.credentials(this.admin);
    this.call<object>((server, reply) => { server.authApi.request(request, credentials, reply); }, (answer) => {
      this.noteAnswer(this.admin, answer);
      if (answer !== null && !isEtcdError(answer)) this.permissionChanges++;
      this.after(this.random.exponential(this.options.adminMeanMs), () => { this.adminNext(); });
    });
  }

  private drawAdminRequest(): AuthRequest {
    const roll = this.random.intBelow(100);
    const role = `r${this.random.intBelow(AUTH_ROLES)}`;
    const user = `u${this.random.intBelow(AUTH_USERS)}`;
    if (roll < 40 || (roll < 60 && this.granted.length === 0)) {
      const a = this.random.intBelow(this.options.keys);
      const single = this.random.chance(0.5);
      const key = `k${a}`;
      const rangeEnd = single ? '' : `k${a + 1 + this.random.intBelow(this.options.keys - a)}`;
      const permType = PERM_TYPES[this.random.intBelow(PERM_TYPES.length)] ?? 'READWRITE';
      this.granted.push({ role, key, rangeEnd });
      return { op: 'roleGrantPermission', name: role, perm: { permType, key, rangeEnd } };
    }
    if (roll < 60) {
      const [perm] = this.granted.splice(this.random.intBelow(this.granted.length), 1);
      return { op: 'roleRevokePermission', role: perm?.role ?? role, key: perm?.key ?? 'k0', rangeEnd: perm?.rangeEnd ?? '' };
    }
    if (roll < 80) return { op: 'userGrantRole', user, role };
    return { op: 'userRevokeRole', name: user, role };
  }

  private clientNext(client: Client): void {
    if (!this.running) return;
    if (client.token === null) {
      this.login(client, () => { this.clientNext(client); });
      return;
    }
    const roll = this.random.intBelow(100);
    const key = this.keyNames[this.random.intBelow(this.keyNames.length)] ?? 'k0';
    if (roll < 40) this.put(client, key);
    else if (roll < 75) this.get(client, key);
    else this.txn(client, key, this.keyNames[this.random.intBelow(this.keyNames.length)] ?? 'k0');
  }

  private put(client: Client, key: string): void {
    const value = `a${this.nextValue++}`;
    const credentials = this.credentials(client);
    this.issue(client, { kind: 'put', key, value }, (server, reply) => {
      server.put({ key: fromKey(key), value: fromKey(value) }, reply, credentials);
    });
  }

  private get(client: Client, key: string): void {
    const credentials = this.credentials(client);
    this.issue(client, { kind: 'get', key, value: '' }, (server, reply) => {
      server.range({ key: fromKey(key) }, reply, credentials);
    });
  }

  /** A txn that writes `key` whichever way its compare on `compareKey` goes. */
  private txn(client: Client, key: string, compareKey: string): void {
    const value = `a${this.nextValue++}`;
    const credentials = this.credentials(client);
    const write = [{ put: { key: fromKey(key), value: fromKey(value) } }];
    this.issue(client, { kind: 'txn', key, value, compareKey }, (server, reply) => {
      server.txn({ compare: [{ key: fromKey(compareKey), target: 'version', version: 0, result: 'equal' }], success: write, failure: write }, reply, credentials);
    });
  }

  /** Records the op, sends it, and sets its outcome from the answer. */
  private issue(client: Client, shape: Pick<AuthOp, 'kind' | 'key' | 'value' | 'compareKey'>, send: Send<object>): void {
    const member = this.pickMember();
    if (member === null) {
      this.after(RETRY_MS, () => { this.clientNext(client); });
      return;
    }
    const op: AuthOp = { ...shape, user: client.user, member: member.id, outcome: null, servedAt: -1 };
    this.ops.push(op);
    this.callOn<object>(member, (server, reply) => {
      send(server, (answer) => {
        // A read is decided as of the member's applied state when it is served, i.e. now.
        if (op.kind === 'get') op.servedAt = server.machine.store.appliedIndex();
        reply(answer);
      });
    }, (answer) => {
      this.noteAnswer(client, answer);
      if (answer !== null) op.outcome = isEtcdError(answer) ? (PERMISSION_ERRORS.has(answer.name) ? answer.name : null) : 'allowed';
      this.after(this.random.exponential(this.options.thinkMeanMs), () => { this.clientNext(client); });
    });
  }

  private call<T>(send: Send<T>, done: (answer: Answer<T>) => void): void {
    const member = this.pickMember();
    if (member === null) {
      this.after(RETRY_MS, () => { done(null); });
      return;
    }
    this.callOn(member, send, done);
  }

  /** Sends to the member; `done` runs once, with the answer or (at the deadline) null. */
  private callOn<T>(member: SimMember, send: Send<T>, done: (answer: Answer<T>) => void): void {
    let settled = false;
    const settle = (answer: Answer<T>): void => {
      if (settled) return;
      settled = true;
      done(answer);
    };
    this.after(this.options.timeoutMs, () => { settle(null); });
    this.cluster.runOn(member, () => {
      const server = member.server;
      if (server !== null) send(server, settle);
    }, true);
  }

  /** A member that is up, drawn from the seed; null when none is. */
  private pickMember(): SimMember | null {
    const up: SimMember[] = [];
    for (const id of this.cluster.ids) {
      const m = this.cluster.member(id);
      if (m.state === 'up' || m.state === 'paused') up.push(m);
    }
    return up.length === 0 ? null : (up[this.random.intBelow(up.length)] ?? null);
  }

  private after(ms: number, run: () => void): void {
    this.scheduler.after(Math.round(1000 * ms), { kind: 'client', node: 0, a: this.ops.length, run });
  }
}
