// Crash durability with real processes: a three-member Tern cluster takes writes and
// reads from clients on every member while members are killed with SIGKILL and
// restarted on their data dirs, in a loop. Afterwards every acknowledged write is still
// there (read back at its own revision), and the recorded history is linearizable
// under the checker's etcd model. It runs twice: over plain peer links, and with the
// members talking over mutual TLS (certificates from a throw-away CA).
import * as grpc from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import { checkEtcdHistory } from '../../jepsen-like/etcd/check.js';
import { parseEtcdHistory } from '../../jepsen-like/etcd/parse.js';
import { loadEtcdServices } from '../../net/proto/load.js';
import { makePki } from '../tls/pki.js';
import { startTernCluster, type RunningCluster } from './processes.js';

type Wire = Record<string, unknown>;
type Call = (request: Wire, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: Wire) => void) => void;
type KvClient = grpc.Client & { Put: Call; Range: Call };

const KEYS = ['k0', 'k1', 'k2', 'k3'];
const KILLS = 6;
const text = (b: unknown): string => (Buffer.isBuffer(b) ? b.toString() : '');
const num = (v: unknown): number => Number(v ?? 0);
const nowUs = (): number => Math.round(performance.now() * 1000);

function kvClient(endpoint: string): KvClient {
  const Kv = grpc.makeGenericClientConstructor(loadEtcdServices().kv, 'KV');
  return new Kv(endpoint, grpc.credentials.createInsecure(), { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 300 }) as unknown as KvClient;
}

function ask(call: Call, client: KvClient, request: Wire): Promise<Wire | grpc.ServiceError> {
  return new Promise((resolve) => {
    call.call(client, request, { deadline: Date.now() + 2000 }, (error, response) => { resolve(error ?? response ?? {}); });
  });
}

const isError = (r: Wire | grpc.ServiceError): r is grpc.ServiceError => r instanceof Error;

interface Acked { readonly key: string; readonly value: string; readonly revision: number }

test('SIGKILL in a loop loses no acknowledged write, and the history is linearizable', async (t) => {
  await crashLoop(t, await startTernCluster(3));
});

test('the same over peer mTLS: no acknowledged write lost, history linearizable', async (t) => {
  const pki = await makePki();
  try {
    const peerTls = ['--peer-cert-file', pki.server.cert, '--peer-key-file', pki.server.key, '--peer-trusted-ca-file', pki.caFile, '--peer-client-cert-auth'];
    await crashLoop(t, await startTernCluster(3, peerTls, { client: 'http', peer: 'https' }));
  } finally {
    pki.remove();
  }
});

/** Clients on every member, SIGKILLs and restarts in a loop; then every ack is checked. Stops the cluster. */
async function crashLoop(t: ExecutionContext, cluster: RunningCluster): Promise<void> {
  const lines: string[] = [];
  const acked: Acked[] = [];
  let nextProcess = 0;
  let stop = false;
  const record = (process: number, call: number, ret: number | null, outcome: string, request: object, response?: object): void => {
    lines.push(JSON.stringify({ process, call, return: ret, outcome, request, ...(response === undefined ? {} : { response }) }));
  };
  const client = async (endpoint: string, id: number): Promise<void> => {
    const kv = kvClient(endpoint);
    let process = nextProcess++;
    for (let n = 0; !stop; n++) {
      const key = KEYS[(n * 7 + id) % KEYS.length] ?? 'k0';
      const call = nowUs();
      if (n % 3 !== 2) {
        const value = `c${id}-${n}`;
        const request = { type: 'put', key, value };
        const r = await ask(kv.Put, kv, { key: Buffer.from(key), value: Buffer.from(value) });
        if (isError(r)) {
          // It may still happen: unknown, and this client goes on as a new process.
          record(process, call, null, 'unknown', request);
          process = nextProcess++;
          await new Promise((done) => setTimeout(done, 50));
          continue;
        }
        const revision = num((r['header'] as Wire | undefined)?.['revision']);
        record(process, call, nowUs(), 'ok', request, { revision });
        acked.push({ key, value, revision });
      } else {
        const request = { type: 'range', key };
        const r = await ask(kv.Range, kv, { key: Buffer.from(key) });
        if (isError(r)) {
          record(process, call, nowUs(), 'fail', request); // a failed read changed nothing
          await new Promise((done) => setTimeout(done, 50));
          continue;
        }
        const kvs = (r['kvs'] as Wire[]).map((x) => ({
          key: text(x['key']), value: text(x['value']), createRevision: num(x['create_revision']),
          modRevision: num(x['mod_revision']), version: num(x['version']), lease: num(x['lease']),
        }));
        record(process, call, nowUs(), 'ok', request, { revision: num((r['header'] as Wire | undefined)?.['revision']), kvs, count: num(r['count']) });
      }
    }
    kv.close();
  };
  try {
    const clients = cluster.members.flatMap((m, i) => [client(m.endpoint, 2 * i), client(m.endpoint, 2 * i + 1)]);
    for (let k = 0; k < KILLS; k++) {
      await new Promise((done) => setTimeout(done, 800));
      const victim = k % 3;
      await cluster.kill(victim);
      await new Promise((done) => setTimeout(done, 300));
      await cluster.restart(victim);
    }
    await new Promise((done) => setTimeout(done, 800));
    stop = true;
    await Promise.all(clients);

    // Every acknowledged write, read back at its own revision (nothing was compacted).
    const reader = kvClient(cluster.members[0]?.endpoint ?? '');
    let lost = 0;
    for (const a of acked) {
      const r = await ask(reader.Range, reader, { key: Buffer.from(a.key), revision: String(a.revision) });
      const got = isError(r) ? null : text((r['kvs'] as Wire[])[0]?.['value']);
      if (got !== a.value) {
        lost++;
        t.log(`lost: ${a.key}=${a.value} at revision ${a.revision} (read ${got ?? (isError(r) ? r.message : 'nothing')})`);
      }
    }
    reader.close();
    const ops = lines.length;
    const unknown = lines.filter((l) => l.includes('"outcome":"unknown"')).length;
    t.log(`kills ${KILLS}, ops ${ops}, acknowledged writes ${acked.length}, unknown writes ${unknown}, lost ${lost}`);
    t.true(acked.length > 50, `too few acknowledged writes to mean anything (${acked.length})`);
    t.is(lost, 0);
    const verdict = checkEtcdHistory(parseEtcdHistory(lines.join('\n')), { timeoutMs: 60_000 });
    t.is(verdict.result.verdict, 'ok', verdict.method);
  } finally {
    stop = true;
    await cluster.stop();
  }
}

