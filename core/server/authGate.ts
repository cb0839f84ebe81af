// Who a request comes from, decided on the member it reaches (etcd 3.4's
// AuthInfoFromCtx): its token through the token provider, else — with client
// certificate auth — its certificate's common name, else nobody. A simple token made by
// an Authenticate entry this member has not applied yet waits for that entry (etcd's
// index waiter) instead of failing, so a client may authenticate on one member and go
// on on another.

import { etcdError, type EtcdError } from '../errors.js';
import type { AuthStore } from '../auth/authStore.js';
import type { AuthInfo } from '../auth/permissionCheck.js';
import { isTokenUser, type TokenProvider } from '../auth/tokens.js';
import { invariant } from '../util/invariant.js';

/** What a request presents: the `token` metadata, and a verified client certificate's CN. */
export interface Credentials {
  readonly token?: string;
  /** Only when the member runs with --client-cert-auth and the client's chain verified. */
  readonly commonName?: string;
}

/** null: no credentials (etcd's nil AuthInfo); an error: the token is not valid. */
export type AuthDecision = AuthInfo | null | EtcdError;

interface PendingToken {
  readonly token: string;
  readonly index: number;
  readonly deadlineTick: number;
  readonly decide: (decision: AuthDecision) => void;
}

export interface AuthGateView {
  readonly auth: () => AuthStore;
  readonly tokens: () => TokenProvider;
  readonly appliedIndex: () => number;
  readonly nowMs: () => number;
}

export class AuthGate {
  /** Requests whose simple token's entry is not applied here yet. Invariant: size <= limit. */
  private readonly pending: PendingToken[] = [];

  constructor(private readonly view: AuthGateView, private readonly limit: number, private readonly waitTicks: number) {
    invariant(limit > 0 && waitTicks > 0, 'an auth gate waits for a positive number of tokens and ticks');
  }

  /** Decides at once, or once the token's entry is applied here (at most waitTicks later). */
  decide(credentials: Credentials, ticks: number, decide: (decision: AuthDecision) => void): void {
    const token = credentials.token;
    if (token === undefined || token === '') {
      const cn = credentials.commonName;
      decide(cn === undefined || cn === '' ? null : { user: cn, revision: this.view.auth().authRevision() });
      return;
    }
    const info = this.infoNow(token);
    if (!('pendingIndex' in info)) {
      decide(info);
      return;
    }
    if (this.pending.length >= this.limit) {
      decide(etcdError('tooManyRequests'));
      return;
    }
    this.pending.push({ token, index: info.pendingIndex, deadlineTick: ticks + this.waitTicks, decide });
  }

  /** After entries applied: the tokens they made are decided. */
  onApplied(): void {
    if (this.pending.length === 0) return;
    const applied = this.view.appliedIndex();
    this.settle((p) => p.index <= applied);
  }

  /** Every tick: expired tokens dropped; tokens whose entry never came are refused. */
  tick(ticks: number): void {
    this.view.tokens().sweep(this.view.nowMs());
    this.settle((p) => p.deadlineTick <= ticks);
  }

  get waiting(): number {
    return this.pending.length;
  }

  private settle(ready: (p: PendingToken) => boolean): void {
    for (let i = 0; i < this.pending.length;) {
      const p = this.pending[i];
      if (p === undefined || !ready(p)) { i++; continue; }
      this.pending.splice(i, 1);
      const info = this.infoNow(p.token);
      p.decide('pendingIndex' in info ? etcdError('invalidAuthToken') : info);
    }
  }

  private infoNow(token: string): AuthInfo | EtcdError | { readonly pendingIndex: number } {
    const info = this.view.tokens().info(token, this.context());
    if (isTokenUser(info)) return info;
    return info.kind === 'pending' ? { pendingIndex: info.index } : etcdError('invalidAuthToken');
  }

  private context(): { nowMs: number; currentRevision: number; appliedIndex: number } {
    return { nowMs: this.view.nowMs(), currentRevision: this.view.auth().authRevision(), appliedIndex: this.view.appliedIndex() };
  }
}
