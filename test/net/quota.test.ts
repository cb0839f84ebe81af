// --quota-backend-bytes against real etcd 3.4, through real etcdctl: the sequence of
// etcd's e2e TestCtlV3Alarm (fill until "database space exceeded", alarm list, puts
// refused while NOSPACE is raised, delete, compact, defrag, disarm, put again) must
// read the same on both, with /health and endpoint status errors following the alarm
// and etcd_server_quota_backend_bytes exported. Then on three Tern members: the alarm
// is replicated, so every member lists the same alarms and reports them in its status.
//
// Normalized: etcdctl's JSON log lines, member ids, the endpoint, and the revision a
// compaction names (how many 4 KiB puts fit differs: etcd's bbolt file has free pages,
// Tern's size is the image's; both fill until refused).
import test from 'ava';
import { etcdctl, removeDataDir, startEtcd, startTern, startTernCluster, tempDataDir, type Outcome, type Running, startBoth } from './processes.js';

const QUOTA = String(13 * 4096);
const SMALL = 'a'.repeat(64);
const BIG = 'b'.repeat(4096);
const NO_SPACE = 'etcdserver: mvcc: database space exceeded';

function normalize(o: Outcome, endpoint: string): string {
  const keep = (text: string): string => text.split('\n')
    .filter((line) => !line.startsWith('{"level":'))
    .join('\n')
    .replaceAll(endpoint, 'ENDPOINT')
    .replace(/memberID:\d+/g, 'memberID:ID')
    .replace(/compacted revision \d+/g, 'compacted revision N');
  return `exit ${o.code}\n${keep(o.stdout)}\n${keep(o.stderr)}`;
}

/** Puts 4 KiB values until one is refused; how many fit, and the refusal. */
async function fill(endpoint: string): Promise<{ fitted: number; refusal: Outcome }> {
  for (let fitted = 0; fitted < 200; fitted++) {
    const out = await etcdctl(endpoint, ['put', '2nd_test', BIG]);
    if (out.code !== 0) return { fitted, refusal: out };
  }
  throw new Error(`${endpoint} never refused a put`);
}

interface StatusJson { Status: { header: { revision: number }; errors?: string[] } }

async function status(endpoint: string): Promise<StatusJson['Status']> {
  const out = await etcdctl(endpoint, ['endpoint', 'status', '-w', 'json']);
  const [first] = JSON.parse(out.stdout) as StatusJson[];
  if (first === undefined) throw new Error(`no status from ${endpoint}: ${out.stderr}`);
  return first.Status;
}

async function health(endpoint: string, query = ''): Promise<string> {
  const response = await fetch(`http://${endpoint}/health${query}`);
  return `${response.status} ${(await response.text()).trim()}`;
}

async function quotaGauge(endpoint: string): Promise<string | undefined> {
  const body = await (await fetch(`http://${endpoint}/metrics`)).text();
  return body.split('\n').find((line) => line.startsWith('etcd_server_quota_backend_bytes '));
}

/** One side's transcript of the alarm sequence, normalized. */
async function alarmSequence(server: Running): Promise<string[]> {
  const ep = server.endpoint;
  const ctl = async (args: string[], input?: string): Promise<string> => `${args[0] === 'compact' ? 'compact' : args.join(' ')}\n${normalize(await etcdctl(ep, args, input), ep)}`;
  const log: string[] = [await ctl(['put', '1st_test', SMALL])];
  const { fitted, refusal } = await fill(ep);
  log.push(`fitted some: ${fitted > 0}`, normalize(refusal, ep));
  log.push(await ctl(['alarm', 'list']));
  log.push(`status errors: ${JSON.stringify((await status(ep)).errors ?? []).replace(/memberID:\d+/g, 'memberID:ID')}`);
  log.push(`health: ${await health(ep)}`, `health excluding NOSPACE: ${await health(ep, '?exclude=NOSPACE')}`);
  log.push(await ctl(['put', '3rd_test', SMALL]));
  log.push(await ctl(['txn'], '\n\nput t t\n\n'));
  log.push(await ctl(['txn'], '\n\ndel nothing\n\n'));
  log.push(await ctl(['lease', 'grant', '100']));
  log.push(await ctl(['del', '1st_test']));
  log.push(await ctl(['get', '2nd_test', '--keys-only']));
  log.push(await ctl(['compact', String((await status(ep)).header.revision), '--physical']));
  log.push(await ctl(['defrag']));
  log.push(await ctl(['alarm', 'disarm']));
  log.push(await ctl(['alarm', 'list']));
  log.push(await ctl(['put', '4th_test', SMALL]));
  log.push(`status errors: ${JSON.stringify((await status(ep)).errors ?? [])}`, `health: ${await health(ep)}`);
  log.push(`gauge: ${await quotaGauge(ep) ?? 'missing'}`);
  return log;
}

test.serial('the alarm sequence of etcd\'s TestCtlV3Alarm reads the same on Tern as on etcd 3.4', async (t) => {
  t.timeout(180_000);
  const [etcd, tern] = await startBoth(startEtcd({ extraArgs: ['--quota-backend-bytes', QUOTA] }), startTern({ extraArgs: ['--quota-backend-bytes', QUOTA] }));
  t.teardown(async () => { await Promise.all([etcd.stop(), tern.stop()]); });
  const fromEtcd = await alarmSequence(etcd);
  const fromTern = await alarmSequence(tern);
  t.true(fromEtcd.some((line) => line.includes(NO_SPACE)), 'etcd refused puts: the sequence is not vacuous');
  t.true(fromEtcd.includes(`gauge: etcd_server_quota_backend_bytes ${QUOTA}`), fromEtcd.join('\n'));
  for (let i = 0; i < fromEtcd.length; i++) t.is(fromTern[i], fromEtcd[i]);
});

test.serial('on three Tern members the NOSPACE alarm is replicated: every member lists it and reports it in its status', async (t) => {
  t.timeout(180_000);
  const cluster = await startTernCluster(3, ['--quota-backend-bytes', QUOTA]);
  t.teardown(() => cluster.stop());
  const endpoints = cluster.members.map((m) => m.endpoint);
  const [first] = endpoints;
  if (first === undefined) throw new Error('no member');
  t.true((await fill(first)).refusal.stderr.includes(NO_SPACE));
  const lists = await Promise.all(endpoints.map(async (ep) => (await etcdctl(ep, ['alarm', 'list'])).stdout));
  t.regex(lists[0] ?? '', /^memberID:\d+ alarm:NOSPACE \n$/);
  t.deepEqual(lists, endpoints.map(() => lists[0]), 'the same alarms on every member');
  // Status reads the member's applied alarms (no Raft round): wait until each has applied it.
  for (const ep of endpoints) {
    let errors: string[] = [];
    for (let i = 0; i < 100 && errors.length === 0; i++) {
      errors = (await status(ep)).errors ?? [];
      if (errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.deepEqual(errors, [(lists[0] ?? '').trimEnd().concat(' ')], `status of ${ep}`);
  }
  const refused = await etcdctl(endpoints[2] ?? first, ['put', 'x', 'y']);
  t.true(refused.stderr.includes(NO_SPACE), 'another member refuses too');
  t.is((await etcdctl(first, ['alarm', 'disarm'])).code, 0);
  const cleared = await Promise.all(endpoints.map(async (ep) => (await etcdctl(ep, ['alarm', 'list'])).stdout));
  t.deepEqual(cleared, ['', '', '']);
});

// Replayed from the log (no snapshot yet), and restored from a snapshot image taken after the alarm.
for (const snapshotCount of [100_000, 3]) {
  test.serial(`a raised alarm survives a restart of the member, --snapshot-count ${snapshotCount} (etcd restores its alarms at start)`, async (t) => {
    t.timeout(120_000);
    const dataDir = tempDataDir();
    t.teardown(() => { removeDataDir(dataDir); });
    const args = ['--quota-backend-bytes', QUOTA, '--snapshot-count', String(snapshotCount)];
    const first = await startTern({ dataDir, extraArgs: args });
    const port = Number(first.endpoint.split(':')[1]);
    let stopped = false;
    t.teardown(async () => { if (!stopped) await first.stop(); });
    t.true((await fill(first.endpoint)).refusal.stderr.includes(NO_SPACE));
    const before = (await etcdctl(first.endpoint, ['alarm', 'list'])).stdout;
    await first.stop();
    stopped = true;
    const second = await startTern({ dataDir, port, extraArgs: args });
    t.teardown(() => second.stop());
    t.is((await etcdctl(second.endpoint, ['alarm', 'list'])).stdout, before);
    const refused = await etcdctl(second.endpoint, ['put', 'after', 'restart']);
    t.true(refused.stderr.includes(NO_SPACE), 'still capped after the restart');
    t.is((await etcdctl(second.endpoint, ['del', '2nd_test'])).stdout, '1\n', 'deletes go on');
  });
}
