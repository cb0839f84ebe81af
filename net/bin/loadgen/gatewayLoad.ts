// The gateway cases of the load generator: closed-loop clients (one request in flight
// each) POSTing etcd's JSON to /v3/kv/put or /v3/kv/range over HTTP/1.1 keep-alive
// connections, the way etcd3gw or curl-in-a-loop users reach a member. HTTP/1.1 has no
// multiplexing, so every client needs its own connection: the agent keeps up to
// `conns` of them per worker, and a case should give conns = clients.
//
// An operation counts only when the member answers 200 and, for a range, returns a key
// (the case prefills the key space): a gateway that answered with an error body fast
// must not look fast.

import http from 'node:http';
import { keyBytes, keyIndex } from './keys.js';
import { processCpuMicros, type WorkerResult, type WorkerTask } from './task.js';

const REQUEST_TIMEOUT_MS = 10_000;
/** A reply body longer than this is cut off in the error samples. */
const SAMPLE_CHARS = 200;

interface Reply { readonly status: number; readonly body: string }

function post(agent: http.Agent, endpoint: string, path: string, body: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const [host, port] = endpoint.split(':');
    const request = http.request({
      agent, host, port: Number(port), path, method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => { chunks.push(chunk); });
      response.on('end', () => { resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }); });
      response.on('error', reject);
    });
    request.setTimeout(REQUEST_TIMEOUT_MS, () => { request.destroy(new Error(`no reply in ${REQUEST_TIMEOUT_MS} ms`)); });
    request.on('error', reject);
    request.end(body);
  });
}

/** The JSON body and path of operation n, with keys and values in base64 as the gateway reads them. */
function operation(task: WorkerTask, valueBase64: string, n: number): { path: string; body: string } {
  const key = keyBytes(keyIndex(task.sequentialKeys, n, task.keySpace), task.keySize).toString('base64');
  if (task.mode === 'gw-put') return { path: '/v3/kv/put', body: `{"key":"${key}","value":"${valueBase64}"}` };
  return { path: '/v3/kv/range', body: `{"key":"${key}"}` };
}

/** Why a 200 reply does not count, or null when it does. */
function refusal(task: WorkerTask, reply: Reply): string | null {
  if (reply.status !== 200) return `HTTP ${reply.status}: ${reply.body.slice(0, SAMPLE_CHARS)}`;
  if (task.mode === 'gw-range' && !reply.body.includes('"kvs"')) return `range found no key: ${reply.body.slice(0, SAMPLE_CHARS)}`;
  return null;
}

export async function runGatewayLoad(task: WorkerTask): Promise<WorkerResult> {
  if (task.mode !== 'gw-put' && task.mode !== 'gw-range') throw new Error(`runGatewayLoad got mode ${task.mode}`);
  if (task.tls !== undefined || task.auth !== undefined) throw new Error('the gateway cases dial plain HTTP without auth');
  if (task.endpoints.length === 0 || task.clients < 1 || task.conns < 1) throw new Error('a gateway load needs endpoints, clients and conns');
  // One agent per endpoint, its sockets capped so that the worker holds `conns` in all.
  const perEndpoint = Math.max(1, Math.ceil(task.conns / task.endpoints.length));
  const agents = task.endpoints.map(() => new http.Agent({ keepAlive: true, maxSockets: perEndpoint }));
  const valueBase64 = Buffer.from(task.value).toString('base64');
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let issued = 0;
  const fail = (message: string): void => {
    errors++;
    if (errorSamples.length < 3) errorSamples.push(message);
  };
  const deadline = Date.now() + task.durationMs;
  const started = performance.now();
  const cpuStart = processCpuMicros();
  const client = async (i: number): Promise<void> => {
    const endpoint = task.endpoints[i % task.endpoints.length] ?? '';
    const agent = agents[i % agents.length];
    if (agent === undefined) throw new Error('no agent');
    while (issued < task.total && Date.now() < deadline) {
      const { path, body } = operation(task, valueBase64, issued++);
      const t0 = performance.now();
      try {
        const reply = await post(agent, endpoint, path, body);
        const why = refusal(task, reply);
        if (why === null) latencies.push(performance.now() - t0);
        else fail(why);
      } catch (error) {
        fail(error instanceof Error ? error.message : String(error));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: task.clients }, (_, i) => client(i)));
  } finally {
    for (const a of agents) a.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  return { latencies: Float64Array.from(latencies), errors, errorSamples, seconds, cpuWindowMicros: [cpuStart, processCpuMicros()] };
}
