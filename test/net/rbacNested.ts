// The one deliberate RBAC difference: etcd 3.4.23 does not check the compares and ops of
// a txn nested in a txn (checkTxnReqsPermission skips RequestTxn), so any user can read
// and write every key through one (advisory GHSA-rfx7-8w68-q57q, fixed upstream). Tern
// checks them, as the fixed etcd does. On such a txn the two would disagree, and etcd
// would run writes that Tern refuses, so the differential does not send it to etcd as
// the user. It asks etcd two questions that change nothing instead:
//   1. each nested compare and op on its own, as the failure branch of an empty txn
//      (both branches are checked; an empty txn with no compare runs its empty success
//      branch and writes nothing) — is any refused? If none is, the txn is sent as usual.
//   2. the whole txn with a token no server issued — etcd validates a txn (duplicate
//      keys, too many ops) before it looks at the token, so this answers the validation
//      error if there is one, else "invalid auth token" and runs nothing.
// The fixed etcd's answer is then that validation error, or "permission denied" (for an
// anonymous caller, "user name is empty", which its probes get too).
import type { Compare, TxnOp } from './rbacModel.js';
import { requestCall, type Call } from './rbacCalls.js';
import type { Answer } from './rbacClient.js';

type Txn = { readonly compare: readonly Compare[]; readonly success: readonly TxnOp[]; readonly failure: readonly TxnOp[] };

/** Check-only probes for every compare and op of every txn nested (at any depth) in `txn`. */
export function nestedProbes(txn: Txn): Call[] {
  const probes: Call[] = [];
  const asProbe = (op: TxnOp): Call => {
    const call = requestCall({ op: 'txn', compare: [], success: [], failure: [op] });
    if (call.kind !== 'unary') throw new Error('a txn is a unary call');
    return call;
  };
  const walk = (nested: Txn): void => {
    for (const c of nested.compare) {
      // A compare needs read on its key (and range_end): the check a range op gets.
      const span = c.target === 'VERSION' ? c.span : { key: c.key, end: '' };
      probes.push(asProbe({ op: 'range', span }));
    }
    for (const op of [...nested.success, ...nested.failure]) {
      if (op.op === 'txn') walk(op);
      else probes.push(asProbe(op));
    }
  };
  for (const op of [...txn.success, ...txn.failure]) if (op.op === 'txn') walk(op);
  return probes;
}

const DENIED_TEXT = 'etcdserver: permission denied';
/** gRPC code 7 (PermissionDenied) with etcd's text. */
export const PERMISSION_DENIED: Answer = { ok: false, code: 7, details: DENIED_TEXT };
const USER_EMPTY_TEXT = 'etcdserver: user name is empty';
const INVALID_TOKEN = 'etcdserver: invalid auth token';

/**
 * What the fixed etcd answers, from etcd's answer to the txn sent with a bogus token and
 * the probe's refusal: "permission denied" for a user, "user name is empty" for anonymous.
 */
export function fixedEtcdAnswer(withBogusToken: Answer, refusal: Answer = PERMISSION_DENIED): Answer {
  return !withBogusToken.ok && withBogusToken.details === INVALID_TOKEN ? refusal : withBogusToken;
}

/** A user's probe refused for permission, or an anonymous one for want of a user. */
export function isDenied(answer: Answer): boolean {
  return !answer.ok && (answer.details === DENIED_TEXT || answer.details === USER_EMPTY_TEXT);
}

/** For the transcript. */
export function describeProbe(call: Call): string {
  return JSON.stringify(call.kind === 'unary' ? call.body : {}, (_k, v: unknown) => (
    typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer'
      ? Buffer.from((v as { data: number[] }).data).toString('latin1') : v));
}
