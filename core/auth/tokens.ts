// Auth tokens (etcd 3.4's auth/simple_token.go and jwt.go behind one port). A token is
// made when a committed Authenticate request applies — on every member, so a token from
// one member is known to all — and checked on the member a request arrives at.
//
// The simple provider lives here: etcd's default, tokens of 16 letters, ".", and the
// Raft index of the Authenticate entry. The letters are drawn by the proposer (the
// server's injected randomness) and travel in the entry; the TTL is member-local and
// restarts on every use, as in etcd. A JWT provider signs with a key, which is I/O and
// crypto: it lives in net/ and implements the same port.

import type { EtcdError } from '../errors.js';
import { invariant } from '../util/invariant.js';
import type { AuthInfo } from './permissionCheck.js';

/** etcd's defaultSimpleTokenLength and its alphabet. */
export const SIMPLE_TOKEN_PREFIX_LENGTH = 16;
export const SIMPLE_TOKEN_LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** etcd's --auth-token-ttl default, seconds. */
export const DEFAULT_SIMPLE_TOKEN_TTL_SECONDS = 300;
/**
 * At most this many live simple tokens per member (etcd keeps no limit): over it, the
 * token closest to expiry is dropped, and its holder authenticates again.
 */
export const MAX_SIMPLE_TOKENS = 100_000;

export interface TokenAssignment {
  readonly user: string;
  /** The auth revision when the Authenticate entry applied (JWTs carry it). */
  readonly authRevision: number;
  /** The Raft index of the Authenticate entry. */
  readonly index: number;
  /** The letters the proposer drew (simple tokens). */
  readonly simplePrefix: string;
  readonly nowMs: number;
}

export interface TokenContext {
  readonly nowMs: number;
  /** The auth store's revision now (a simple token stands for the user at it). */
  readonly currentRevision: number;
  /** This member's applied index (a simple token from an entry not yet applied here waits). */
  readonly appliedIndex: number;
}

/** A token's meaning: who, at which auth revision; `invalid`; or: ask again once this index is applied. */
export type TokenInfo = AuthInfo | { readonly kind: 'invalid' } | { readonly kind: 'pending'; readonly index: number };

export interface TokenProvider {
  /** 'simple' proposals carry drawn letters; 'jwt' ones do not need them. */
  readonly kind: 'simple' | 'jwt';
  /** The token, or the error Authenticate answers (a verify-only JWT member, etcd's nop provider). */
  assign(assignment: TokenAssignment): string | EtcdError;
  info(token: string, context: TokenContext): TokenInfo;
  /** The user was deleted or its password changed: its simple tokens stop working. */
  invalidateUser(user: string): void;
  /** Auth was turned off: every simple token is forgotten. */
  disable(): void;
  /** Drops expired tokens (called every tick). */
  sweep(nowMs: number): void;
}

export const INVALID_TOKEN: TokenInfo = { kind: 'invalid' };

export function isTokenUser(info: TokenInfo): info is AuthInfo {
  return !('kind' in info);
}

/** etcd's simple token: `<16 letters>.<raft index>`, valid on every member while used within its TTL. */
export class SimpleTokens implements TokenProvider {
  readonly kind = 'simple';
  private readonly ttlMs: number;
  private readonly limit: number;
  /** token → user and expiry. Invariant: size <= limit. */
  private readonly tokens = new Map<string, { readonly user: string; expiresAtMs: number }>();

  constructor(options: { readonly ttlSeconds?: number; readonly limit?: number } = {}) {
    const ttl = options.ttlSeconds ?? DEFAULT_SIMPLE_TOKEN_TTL_SECONDS;
    invariant(Number.isInteger(ttl) && ttl > 0, () => `a simple token TTL must be a positive number of seconds, got ${ttl}`);
    this.ttlMs = ttl * 1000;
    this.limit = options.limit ?? MAX_SIMPLE_TOKENS;
    invariant(this.limit > 0, 'a simple token table holds at least one token');
  }

  get size(): number {
    return this.tokens.size;
  }

  assign(assignment: TokenAssignment): string {
    invariant(isSimplePrefix(assignment.simplePrefix), 'a simple token prefix is 16 letters');
    const token = `${assignment.simplePrefix}.${assignment.index}`;
    // etcd panics on a reused token; an index appears once in a log, so this cannot happen.
    invariant(!this.tokens.has(token), () => `simple token ${token} assigned twice`);
    if (this.tokens.size >= this.limit) this.dropSoonestExpiring();
    this.tokens.set(token, { user: assignment.user, expiresAtMs: assignment.nowMs + this.ttlMs });
    return token;
  }

  info(token: string, context: TokenContext): TokenInfo {
    const index = simpleTokenIndex(token);
    if (index === null) return INVALID_TOKEN;
    if (index > context.appliedIndex) return { kind: 'pending', index };
    const entry = this.tokens.get(token);
    if (entry === undefined || entry.expiresAtMs <= context.nowMs) return INVALID_TOKEN;
    entry.expiresAtMs = context.nowMs + this.ttlMs; // etcd's resetSimpleToken
    return { user: entry.user, revision: context.currentRevision };
  }

  invalidateUser(user: string): void {
    for (const [token, entry] of this.tokens) if (entry.user === user) this.tokens.delete(token);
  }

  disable(): void {
    this.tokens.clear();
  }

  sweep(nowMs: number): void {
    for (const [token, entry] of this.tokens) if (entry.expiresAtMs <= nowMs) this.tokens.delete(token);
  }

  private dropSoonestExpiring(): void {
    let soonest: string | null = null;
    let at = Infinity;
    for (const [token, entry] of this.tokens) {
      if (entry.expiresAtMs < at) { at = entry.expiresAtMs; soonest = token; }
    }
    if (soonest !== null) this.tokens.delete(soonest);
  }
}

function isSimplePrefix(prefix: string): boolean {
  if (prefix.length !== SIMPLE_TOKEN_PREFIX_LENGTH) return false;
  for (const c of prefix) if (!SIMPLE_TOKEN_LETTERS.includes(c)) return false;
  return true;
}

/** The index part of `<letters>.<index>` (etcd: exactly one dot, a decimal index), or null. */
export function simpleTokenIndex(token: string): number | null {
  const parts = token.split('.');
  if (parts.length !== 2) return null;
  const digits = parts[1] ?? '';
  if (!/^[0-9]{1,15}$/.test(digits)) return null;
  return Number(digits);
}

/** Draws a simple token's letters with the caller's randomness. */
export function drawSimplePrefix(intBelow: (n: number) => number): string {
  let prefix = '';
  for (let i = 0; i < SIMPLE_TOKEN_PREFIX_LENGTH; i++) prefix += SIMPLE_TOKEN_LETTERS[intBelow(SIMPLE_TOKEN_LETTERS.length)] ?? 'a';
  return prefix;
}
