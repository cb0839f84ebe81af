// etcd 3.4.23's own e2e suite against Tern: its curl lease tests, which grant a lease
// with a client-chosen id from Go's rand.Int63() through the JSON gateway (an int64 as a
// decimal string) and expect that id back digit for digit. They failed while Tern held
// lease ids as JS numbers (rounded above 2^53). Built and skipped as e2e-auth.test.ts is.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isolationWorks, runSuiteTest } from '../../net/bin/e2e/runTest.js';
import { buildSuite, missingEtcd, missingToolchain, onPath } from '../../net/bin/e2e/suite.js';
import { makeBinDir, makeWorkDir } from '../../net/bin/e2e/workspace.js';

const TESTS = ['TestV3CurlLeaseGrantNoTLS', 'TestV3CurlLeaseRevokeNoTLS', 'TestV3CurlLeaseLeasesNoTLS', 'TestV3CurlLeaseKeepAliveNoTLS'];
const LIMIT_SECONDS = 60;

const missing = missingToolchain() ?? missingEtcd();
const run = missing === null ? test : test.skip;
const title = `etcd's own e2e suite passes its curl lease tests (ids from rand.Int63) against Tern${missing === null ? '' : ` (skipped: ${missing})`}`;

run(title, async (t) => {
  // A cold Go build cache takes minutes; a warm one, seconds.
  t.timeout(12 * 60_000);
  const root = mkdtempSync(path.join(tmpdir(), 'tern-e2e-lease-'));
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
