// etcd 3.4.23's own e2e suite against Tern: a handful of its auth, user and role tests,
// each in a process of its own (the launcher behind `npm run e2e`), must pass. The suite is
// built here from Debian's source (golang-go, golang-etcd-server-dev; .ci/run installs them);
// on a machine without them the test is skipped and says why.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isolationWorks, runSuiteTest } from '../../net/bin/e2e/runTest.js';
import { buildSuite, missingEtcd, missingToolchain, onPath } from '../../net/bin/e2e/suite.js';
import { makeBinDir, makeWorkDir } from '../../net/bin/e2e/workspace.js';

/** Passing against Tern and etcd alike; one each of user, role, enable/disable and permission checks. */
const TESTS = ['TestCtlV3AuthEnable', 'TestCtlV3AuthDisable', 'TestCtlV3AuthWriteKey', 'TestCtlV3UserAdd', 'TestCtlV3RoleAdd', 'TestCtlV3UserPasswdNoTLS'];
const LIMIT_SECONDS = 60;

const missing = missingToolchain() ?? missingEtcd();
const run = missing === null ? test : test.skip;
const title = `etcd's own e2e suite passes its auth/user/role tests against Tern${missing === null ? '' : ` (skipped: ${missing})`}`;

run(title, async (t) => {
  // A cold Go build cache takes minutes; a warm one, seconds.
  t.timeout(12 * 60_000);
  const root = mkdtempSync(path.join(tmpdir(), 'tern-e2e-test-'));
  try {
    const binary = path.join(root, 'e2e.test');
    await buildSuite(binary);
    const binDir = makeBinDir(root, 'tern', { etcd: onPath('etcd') ?? 'etcd', etcdctl: onPath('etcdctl') ?? 'etcdctl' });
    const isolate = isolationWorks();
    for (const name of TESTS) {
      const result = await runSuiteTest({
        binary, binDir, cwd: makeWorkDir(root, name), name, limitSeconds: LIMIT_SECONDS, isolate, logFile: path.join(root, `${name}.log`),
      });
      t.is(result.outcome, 'pass', `${name}: ${result.reason}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
