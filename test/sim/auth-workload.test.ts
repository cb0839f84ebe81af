// The auth workload (`--auth`, sim/authWorkload.ts) and its model check
// (sim/authVerdict.ts): 20 CI seeds without bugs pass while really exercising auth
// (allowed and refused requests, permission changes); with the planted bug
// authCheckStaleRevision the check finds a violation within 100 seeds; and the check
// itself refuses an answer the model contradicts.
import test from 'ava';
import { performance } from 'node:perf_hooks';
import type { AuthRequest } from '../../core/auth/authRequests.js';
import type { InternalRequest } from '../../core/server/requests.js';
import { encodeEnvelope } from '../../core/server/requests.js';
import type { AuthInfo } from '../../core/auth/permissionCheck.js';
import { parseArgs, plantedBugs, reproduceCommand } from '../../sim/args.js';
import { AppliedEntries } from '../../sim/appliedEntries.js';
import { checkAuth } from '../../sim/authVerdict.js';
import type { AuthOp } from '../../sim/authWorkload.js';
import type { RunResult } from '../../sim/run.js';
import { passed, runSimulation } from '../../sim/run.js';
import { SafetyChecker } from '../../sim/safetyChecker.js';

const NODES = 3;
const TIME_MS = 10_000;

function run(seed: number, bugs: readonly ('authCheckStaleRevision')[] = []): RunResult {
  return runSimulation({ seed, nodes: NODES, timeMs: TIME_MS, faults: 'swarm', workload: 'kv', auth: true, bugs: plantedBugs(bugs) });
}

function reproduce(seed: number, bugs: readonly string[]): string {
  return reproduceCommand({ seed, nodes: NODES, timeMs: TIME_MS, faults: 'swarm', bugs, workload: 'kv', auth: true });
}

test('20 CI seeds with --auth pass, with allowed and refused requests and permission changes among them', (t) => {
  const totals = { allowed: 0, refused: 0, changes: 0, checked: 0 };
  const failing: string[] = [];
  for (let seed = 1; seed <= 20; seed++) {
    const result = run(seed);
    const auth = result.auth;
    if (auth === undefined) throw new Error('an --auth run without an auth verdict');
    if (!passed(result)) failing.push(`seed ${seed}: ${result.violations[0]?.detail ?? result.liveness}\n  ${reproduce(seed, [])}`);
    totals.allowed += auth.allowed;
    totals.refused += auth.refused;
    totals.changes += auth.permission_changes;
    totals.checked += auth.checked;
  }
  t.deepEqual(failing, []);
  t.log(`allowed ${totals.allowed}, refused ${totals.refused}, permission changes ${totals.changes}, checked ${totals.checked}`);
  t.true(totals.allowed > 100, 'requests were allowed');
  t.true(totals.refused > 100, 'requests were refused');
  t.true(totals.changes > 50, 'permissions changed under the clients');
  t.true(totals.checked >= totals.allowed, 'every answered request was checked against the model');
});

test('the model check finds the planted bug authCheckStaleRevision within 100 seeds', (t) => {
  const started = performance.now();
  for (let seed = 1; seed <= 100; seed++) {
    const result = run(seed, ['authCheckStaleRevision']);
    const violation = result.violations[0];
    if (violation === undefined) continue;
    t.is(violation.kind, 'authDecision');
    t.is(result.auth?.verdict, 'violated');
    t.log(`found by seed ${seed} in ${Math.round(performance.now() - started)} ms: ${violation.detail}`);
    t.log(`reproduce: ${reproduce(seed, ['authCheckStaleRevision'])}`);
    return;
  }
  t.fail('no seed in 1..100 found authCheckStaleRevision');
});

/** A log entry as a member applies it. */
function entry(index: number, request: InternalRequest, auth?: AuthInfo): { index: number; term: number; type: 'normal'; data: Uint8Array } {
  return { index, term: 1, type: 'normal', data: encodeEnvelope({ requestId: '', proposedAtMs: 0, request, ...(auth === undefined ? {} : { auth }) }) };
}

test('the model check judges a write by the auth store as of its entry, and a read as of its serving index', (t) => {
  const root: AuthInfo = { user: 'root', revision: 1 };
  const steps: AuthRequest[] = [
    { op: 'userAdd', name: 'root', passwordHash: 'x', noPassword: false },
    { op: 'roleAdd', name: 'root' },
    { op: 'userGrantRole', user: 'root', role: 'root' },
    { op: 'userAdd', name: 'u0', passwordHash: 'x', noPassword: false },
    { op: 'roleAdd', name: 'r0' },
    { op: 'userGrantRole', user: 'u0', role: 'r0' },
    { op: 'authEnable' },
  ];
  const log = new AppliedEntries();
  steps.forEach((auth, i) => { log.onApplied(entry(i + 1, { kind: 'auth', auth })); });
  const grant: AuthRequest = { op: 'roleGrantPermission', name: 'r0', perm: { permType: 'READWRITE', key: 'k0', rangeEnd: '' } };
  log.onApplied(entry(9, { kind: 'auth', auth: grant }, root));
  const ops: AuthOp[] = [
    // Read at index 8 (before the grant): the model refuses it, the member said allowed.
    { kind: 'get', user: 'u0', member: 1, key: 'k0', value: '', outcome: 'allowed', servedAt: 8 },
    // Read at index 9 (after the grant): allowed on both sides.
    { kind: 'get', user: 'u0', member: 1, key: 'k0', value: '', outcome: 'allowed', servedAt: 9 },
  ];
  const checker = new SafetyChecker({ now: () => 0, inspect: () => null });
  const workload = { ops, permissionChanges: 1, logins: 1, stop: (): void => undefined };
  const result = checkAuth(workload, log, checker);
  t.is(result.verdict, 'violated');
  t.is(result.checked, 2);
  t.is(result.detail.length, 1);
  t.regex(result.detail[0] ?? '', /get k0 by u0 .* served at applied index 8: the member answered allowed, the model .* decides permissionDenied/);
  t.is(checker.violations[0]?.kind, 'authDecision');
});

test('--auth parses, needs the KV members, and is part of the reproduce command', (t) => {
  const parsed = parseArgs(['--seed', '4', '--auth', '--bug', 'authCheckStaleRevision']);
  t.true(parsed.ok && parsed.options.auth && parsed.options.bugs.includes('authCheckStaleRevision'));
  const bad = parseArgs(['--seed', '4', '--auth', '--workload', 'none']);
  t.false(bad.ok);
  t.regex(reproduce(4, ['authCheckStaleRevision']), /--auth --bug authCheckStaleRevision$/);
});
