// etcd's Auth service on one member (etcd 3.4's v3_server.go auth calls): every call
// but AuthStatus is proposed through Raft and answered when its entry applies here.
// Passwords arrive hashed (the host hashes with bcrypt before calling, never in apply);
// Authenticate reads the stored hash after a linearizable barrier, lets the host compare
// the password with it (bcrypt is slow: the verdict may come later), and proposes only
// the token's creation — again if the auth revision moved meanwhile, as etcd does.

import { etcdError, isEtcdError, type EtcdError } from '../errors.js';
import type { AuthAnswer, AuthRequest } from '../auth/authRequests.js';
import type { AuthStore } from '../auth/authStore.js';
import { checkAdminPermitted, checkOpPermitted } from '../auth/permissionCheck.js';
import { NO_AUTH_INFO } from '../auth/requestChecks.js';
import { toKey } from '../mvcc/keys.js';
import { invariant } from '../util/invariant.js';
import type { AuthDecision, Credentials } from './authGate.js';
import type { InternalRequest } from './requests.js';
import type { ApplyResult } from './results.js';
import type { Reply, ResponseHeader } from './server.js';

/** The server's parts the Auth service uses. */
export interface AuthServerPorts {
  readonly auth: () => AuthStore;
  /** Proposes with the credentials' auth info (retried on a stale auth revision). */
  readonly proposeAs: (credentials: Credentials | undefined, request: InternalRequest, onResult: (result: ApplyResult) => void) => void;
  readonly decide: (credentials: Credentials | undefined, decide: (decision: AuthDecision) => void) => void;
  readonly linearizable: (serve: () => void, fail: (error: EtcdError) => void) => void;
  readonly header: (revision?: number) => ResponseHeader;
  /** The letters of a simple token, drawn with the member's randomness; '' when tokens are JWTs. */
  readonly drawTokenPrefix: () => string;
}

/** The host's password check: calls `verdict` (now or later) with whether `password` matches `hash`. */
export type PasswordCheck = (hash: string, verdict: (matches: boolean) => void) => void;

/** Authenticate proposes again at most this often when the auth revision keeps moving. */
const MAX_AUTHENTICATE_ATTEMPTS = 5;

export class AuthApi {
  constructor(private readonly ports: AuthServerPorts) {}

  /** Every Raft-backed auth call except Authenticate. */
  request(request: AuthRequest, credentials: Credentials | undefined, reply: Reply<AuthAnswer>): void {
    invariant(request.op !== 'authenticate', 'Authenticate goes through authenticate(), which checks the password');
    this.ports.proposeAs(credentials, { kind: 'auth', auth: request }, (r) => { reply(this.answer(r)); });
  }

  /** etcd 3.5's AuthStatus: served from this member's state, no Raft round. */
  status(): { readonly header: ResponseHeader; readonly enabled: boolean; readonly authRevision: number } {
    const auth = this.ports.auth();
    return { header: this.ports.header(), enabled: auth.isEnabled(), authRevision: auth.authRevision() };
  }

  authenticate(name: string, check: PasswordCheck, reply: Reply<{ readonly token: string }>, attempt = 1): void {
    this.ports.linearizable(() => {
      const stored = this.storedHash(name);
      if (isEtcdError(stored)) {
        reply(stored);
        return;
      }
      const checkedRevision = this.ports.auth().authRevision();
      check(stored, (matches) => {
        if (!matches) {
          reply(etcdError('authFailed'));
          return;
        }
        const request: AuthRequest = { op: 'authenticate', name, simplePrefix: this.ports.drawTokenPrefix() };
        this.ports.proposeAs(undefined, { kind: 'auth', auth: request }, (r) => {
          // etcd: the password was checked at an older revision (changed since?): check again.
          if (checkedRevision !== this.ports.auth().authRevision() && attempt < MAX_AUTHENTICATE_ATTEMPTS) {
            this.authenticate(name, check, reply, attempt + 1);
            return;
          }
          const answer = this.answer(r);
          reply(isEtcdError(answer) ? answer : { header: answer.header, token: answer.token ?? '' });
        });
      });
    }, (error) => { reply(error); });
  }

  /** etcd's IsAdminPermitted for the Maintenance and Cluster admin calls. */
  checkAdmin(credentials: Credentials | undefined, decide: (refusal: EtcdError | null) => void): void {
    this.ports.decide(credentials, (decision) => {
      decide(isEtcdError(decision) ? decision : checkAdminPermitted(this.ports.auth(), decision));
    });
  }

  /**
   * etcd's isWatchPermitted, when a watcher is created: read permission over the watched
   * range, after etcd's rewriting of it — an empty key becomes "\0", and a from-key
   * range_end "\0" becomes empty, which the check then reads as the single key.
   */
  watchRefusal(
    credentials: Credentials | undefined, range: { readonly key: Uint8Array; readonly rangeEnd?: Uint8Array }, decide: (refusal: EtcdError | null) => void,
  ): void {
    this.ports.decide(credentials, (decision) => {
      if (isEtcdError(decision)) {
        decide(decision);
        return;
      }
      const key = range.key.length === 0 ? '\0' : toKey(range.key);
      const end = range.rangeEnd === undefined ? '' : toKey(range.rangeEnd);
      decide(checkOpPermitted(this.ports.auth(), { info: decision ?? NO_AUTH_INFO, key, rangeEnd: end === '\0' ? '' : end, type: 'READ' }));
    });
  }

  /** etcd's CheckPassword, before the bcrypt comparison. */
  private storedHash(name: string): string | EtcdError {
    const auth = this.ports.auth();
    if (!auth.isEnabled()) return etcdError('authNotEnabled');
    const user = auth.user(name);
    if (user === undefined) return etcdError('authFailed');
    if (user.noPassword) return etcdError('noPasswordUser');
    return user.passwordHash;
  }

  private answer(r: ApplyResult): ({ readonly header: ResponseHeader } & AuthAnswer) | EtcdError {
    if (r.kind === 'auth') return { header: this.ports.header(r.revision), ...r.answer };
    return r.kind === 'error' ? r.error : etcdError('stopped');
  }
}
