// The auth workload's model check: every KV request whose outcome is known was allowed
// or refused exactly as a model of the auth store decides at the point it was decided:
// for a write, the entry it applied at (its Raft index; the last entry carrying its
// unique value, since a write refused as "old revision" is proposed again); for a read,
// the serving member's applied index.
//
// The model is a fresh AuthStore replayed from the committed auth entries in log order,
// as seen by whichever member applied each index first (every member applies the same
// entry at an index, which the safety checker checks). Its decision uses the core's
// permission rules (requestChecks.ts): what is checked here is *which state* a request is
// judged against, not the rules themselves (test/auth covers those against etcd's).

import { applyAuth } from '../core/auth/authApplier.js';
import { AuthStore } from '../core/auth/authStore.js';
import { isRangePermitted } from '../core/auth/permissionCheck.js';
import { checkPut, checkTxn, type RequestAuth } from '../core/auth/requestChecks.js';
import { toKey } from '../core/mvcc/keys.js';
import type { Envelope } from '../core/server/requests.js';
import type { AppliedEntries } from './appliedEntries.js';
import type { AuthOp, AuthOutcome, AuthWorkload } from './authWorkload.js';
import type { SafetyChecker } from './safetyChecker.js';

/** The auth workload's verdict and counts (a run's `auth` field). */
export interface AuthResult {
  readonly verdict: 'ok' | 'violated';
  readonly ops: number;
  /** Requests whose outcome is known, by outcome. */
  readonly allowed: number;
  readonly refused: number;
  readonly unknown: number;
  /** Requests judged against the model (writes found in the log, reads allowed or denied). */
  readonly checked: number;
  readonly permission_changes: number;
  readonly logins: number;
  /** Applied entries the model replayed. */
  readonly entries: number;
  /** The first few violations, for humans. */
  readonly detail: readonly string[];
}

/** The unique value a write entry carries (the auth workload's puts and txns), or null. */
function writtenValue(envelope: Envelope): string | null {
  const request = envelope.request;
  if (request.kind === 'put') return toKey(request.put.value);
  if (request.kind !== 'txn') return null;
  const first = request.txn.success[0];
  return first !== undefined && 'put' in first ? toKey(first.put.value) : null;
}

function modelDecision(model: AuthStore, envelope: Envelope): AuthOutcome {
  if (!model.isEnabled()) return 'allowed';
  const auth: RequestAuth = { store: model, info: envelope.auth ?? null, leaseKeys: () => [] };
  const request = envelope.request;
  const refused = request.kind === 'put' ? checkPut(auth, request.put) : request.kind === 'txn' ? checkTxn(auth, request.txn) : null;
  return refused?.name ?? 'allowed';
}

/** A read's model decision: only allowed vs. permission denied (its token's revision is not recorded). */
function readDecision(model: AuthStore, op: AuthOp): AuthOutcome {
  return isRangePermitted(model, { user: op.user, key: op.key, rangeEnd: '', type: 'READ' }) ? 'allowed' : 'permissionDenied';
}

interface Judgement {
  readonly violations: string[];
  checked: number;
}

function judge(judgement: Judgement, op: AuthOp, at: string, model: AuthOutcome): void {
  judgement.checked++;
  if (op.outcome === model) return;
  judgement.violations.push(`${op.kind} ${op.key}${op.value === '' ? '' : `=${op.value}`} by ${op.user} on member ${op.member} ` +
    `${at}: the member answered ${op.outcome ?? '?'}, the model of the auth store decides ${model}`);
}

/** Walks the log once, replaying auth entries into the model and judging each request where it was decided. */
function replay(log: readonly (readonly [number, Envelope])[], ops: readonly AuthOp[]): Judgement {
  const judgement: Judgement = { violations: [], checked: 0 };
  const writes = new Map<string, AuthOp>();
  const lastIndexOf = new Map<string, number>();
  for (const op of ops) if (op.kind !== 'get' && op.outcome !== null) writes.set(op.value, op);
  for (const [index, envelope] of log) {
    const value = writtenValue(envelope);
    if (value !== null && writes.has(value)) lastIndexOf.set(value, index);
  }
  for (const [value, op] of writes) {
    if (!lastIndexOf.has(value)) judgement.violations.push(`${op.kind} ${op.key}=${value} by ${op.user} was answered ${op.outcome ?? '?'} but no entry carries it`);
  }
  // Reads judged on their permission only (an "old revision" answer says nothing about it).
  const reads = ops.filter((op) => op.kind === 'get' && (op.outcome === 'allowed' || op.outcome === 'permissionDenied'))
    .sort((a, b) => a.servedAt - b.servedAt);
  const model = new AuthStore();
  let nextRead = 0;
  const judgeReadsBefore = (index: number): void => {
    for (let read = reads[nextRead]; read !== undefined && read.servedAt < index; read = reads[++nextRead]) {
      judge(judgement, read, `served at applied index ${read.servedAt}`, readDecision(model, read));
    }
  };
  for (const [index, envelope] of log) {
    judgeReadsBefore(index);
    const request = envelope.request;
    if (request.kind === 'auth') applyAuth(model, request.auth, envelope.auth ?? null, { index, nowMs: 0, tokens: null });
    const value = writtenValue(envelope);
    const op = value === null ? undefined : writes.get(value);
    if (op !== undefined && value !== null && lastIndexOf.get(value) === index) {
      judge(judgement, op, `applied at index ${index}`, modelDecision(model, envelope));
    }
  }
  judgeReadsBefore(Number.MAX_SAFE_INTEGER);
  return judgement;
}

/** Ends the auth workload, checks it, reports the first violation to the checker. */
export function checkAuth(
  workload: Pick<AuthWorkload, 'ops' | 'permissionChanges' | 'logins' | 'stop'>, log: AppliedEntries, checker: SafetyChecker,
): AuthResult {
  workload.stop();
  const entries = log.inOrder();
  const judgement = replay(entries, workload.ops);
  const first = judgement.violations[0];
  if (first !== undefined) checker.report('authDecision', 0, first);
  const known = workload.ops.filter((op) => op.outcome !== null);
  const allowed = known.filter((op) => op.outcome === 'allowed').length;
  return {
    verdict: first === undefined ? 'ok' : 'violated',
    ops: workload.ops.length,
    allowed,
    refused: known.length - allowed,
    unknown: workload.ops.length - known.length,
    checked: judgement.checked,
    permission_changes: workload.permissionChanges,
    logins: workload.logins,
    entries: entries.length,
    detail: judgement.violations.slice(0, 5),
  };
}
