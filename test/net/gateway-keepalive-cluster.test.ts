// The gateway's /v3/lease/keepalive on a three-member cluster, as Patroni's etcd3 DCS
// sends it: one POST whose body holds the request(s), after which the gateway half-closes
// the stream. etcd answers every request it read before it sees the half-close; Tern used
// to end the stream at the half-close and drop the answers still on their way from the
// leader (an empty 200 body: Patroni's "Server response was not valid JSON", then it
// could not hold its leader lock). Checked on real etcd 3.4 with the same requests.
import test from 'ava';
import { curl } from './curl.js';
import { leaderIndex, startEtcdCluster, startTernCluster, type RunningCluster } from './processes.js';

/** Per member: the lease ids and TTLs in the answer's result lines (the headers differ by member). */
async function keepAliveAnswers(cluster: RunningCluster): Promise<string[][]> {
  const leader = await leaderIndex(cluster);
  const grantOn = cluster.members[leader >= 0 ? leader : 0]?.endpoint ?? '';
  const granted = await curl(grantOn, { path: '/v3/lease/grant', body: '{"TTL":"60","ID":"4242"}' });
  if (granted.status !== 200) throw new Error(`grant: ${granted.status} ${granted.body}`);
  const answers: string[][] = [];
  for (const member of cluster.members) {
    const reply = await curl(member.endpoint, { path: '/v3/lease/keepalive', body: '{"ID":"4242"}{"ID":"4242"}' });
    const lines = reply.body.split('\n').filter((l) => l !== '').map((line) => {
      const parsed = JSON.parse(line) as { result?: { ID?: string; TTL?: string } };
      return `${reply.status} ID=${parsed.result?.ID ?? '-'} TTL=${parsed.result?.TTL ?? '-'}`;
    });
    answers.push(lines);
  }
  return answers;
}

const EXPECTED = ['200 ID=4242 TTL=60', '200 ID=4242 TTL=60'];

test('a keep-alive POST answers each of its requests on every member of a 3-member cluster, as etcd 3.4 does', async (t) => {
  const clusters: RunningCluster[] = [];
  t.teardown(async () => { await Promise.all(clusters.map((c) => c.stop())); });
  const etcd = await startEtcdCluster(3);
  clusters.push(etcd);
  t.deepEqual(await keepAliveAnswers(etcd), [EXPECTED, EXPECTED, EXPECTED], 'etcd 3.4');
  const tern = await startTernCluster(3);
  clusters.push(tern);
  t.deepEqual(await keepAliveAnswers(tern), [EXPECTED, EXPECTED, EXPECTED], 'Tern');
});
