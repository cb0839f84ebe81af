// The e2e launcher's reading of `go test -test.v` output: pass, skip, fail with its first
// reason, Go's own timeout panic, our backstop, and a process that died without a verdict.
import test from 'ava';
import { verdictOf } from '../../net/bin/e2e/outcome.js';
import { countLine } from '../../net/bin/e2e/table.js';
import type { TestResult } from '../../net/bin/e2e/runTest.js';

const NAME = 'TestCtlV3AuthEnable';

test('a passing and a skipped test', (t) => {
  t.deepEqual(verdictOf(NAME, `=== RUN   ${NAME}\n--- PASS: ${NAME} (1.23s)\nPASS\n`, false), { outcome: 'pass', reason: '' });
  t.is(verdictOf(NAME, `=== RUN   ${NAME}\n    x_test.go:9: no etcd-last-release\n--- SKIP: ${NAME} (0.00s)\n`, false).outcome, 'skip');
});

test('a failed test gives its first reason; another test passing by a longer name does not count', (t) => {
  const output = [
    `=== RUN   ${NAME}`,
    '    ctl_v3_auth_test.go:110: authEnableTest ctlV3AuthEnable error (read /dev/ptmx: input/output error)',
    '    ctl_v3_test.go:190: second complaint',
    `--- FAIL: ${NAME} (2.00s)`,
    `--- PASS: ${NAME}Twice (1.00s)`,
    'FAIL',
  ].join('\n');
  t.deepEqual(verdictOf(NAME, output, false), { outcome: 'fail', reason: 'ctl_v3_auth_test.go:110: authEnableTest ctlV3AuthEnable error (read /dev/ptmx: input/output error)' });
});

test('of what etcdctl printed, the reason keeps the last line; a t.Log line before the complaint is passed over', (t) => {
  const output = [
    `=== RUN   ${NAME}`,
    '    v3_curl_maxstream_test.go:80: Generating configuration for creating cluster.',
    String.raw`    ctl_v3_auth_test.go:623: read /dev/ptmx: input/output error (expected "OK", got ["{\"level\":\"warn\"}\r\n" "Error: etcdserver: user name is empty\r\n"])`,
    `--- FAIL: ${NAME} (2.00s)`,
  ].join('\n');
  t.is(verdictOf(NAME, output, false).reason, 'ctl_v3_auth_test.go:623: (expected "OK", got "Error: etcdserver: user name is empty")');
});

test("Go's timeout panic and our backstop are timeouts; an exit without a verdict is an error with its last line", (t) => {
  t.is(verdictOf(NAME, `=== RUN   ${NAME}\npanic: test timed out after 1m0s\n`, false).outcome, 'timeout');
  t.deepEqual(verdictOf(NAME, `=== RUN   ${NAME}\n`, true), { outcome: 'timeout', reason: 'no verdict within the time limit' });
  const dump = [`=== RUN   ${NAME}`, '    testutil.go:55: goroutine 100 [running]:', '    testutil.go:56: test timed out after 15s',
    '    ctl_v3_auth_test.go:743: read /dev/ptmx: input/output error (expected "OK")', `--- FAIL: ${NAME} (18.00s)`].join('\n');
  t.deepEqual(verdictOf(NAME, dump, false), { outcome: 'timeout', reason: 'ctl_v3_auth_test.go:743: (expected "OK")' });
  t.deepEqual(verdictOf(NAME, 'flag provided but not defined: -bin-dirx\n', false), { outcome: 'error', reason: 'flag provided but not defined: -bin-dirx' });
});

test('the counts per target name passes out of all tests, then every other outcome, tests not run included', (t) => {
  const result = (outcome: TestResult['outcome']): TestResult => ({ name: '', outcome, reason: '', seconds: 1, strays: 0 });
  const results = new Map([
    ['A', new Map([['tern', result('pass')], ['etcd', result('pass')]] as const)],
    ['B', new Map([['tern', result('fail')], ['etcd', result('pass')]] as const)],
  ]);
  t.is(countLine('tern', ['A', 'B', 'C'], results), 'tern: 1/3 pass, 1 fail, 1 not run');
  t.is(countLine('etcd', ['A', 'B', 'C'], results), 'etcd: 2/3 pass, 1 not run');
});
