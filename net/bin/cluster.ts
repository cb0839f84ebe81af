// `npm run cluster`: three Tern members on 127.0.0.1, like etcd's Procfile (clients
// on 2379/22379/32379, peers on 2380/22380/32380), their output prefixed with their
// names; SIGINT/SIGTERM stops all three. Extra arguments go to every member.
// Data lives in ./infra1.tern, ./infra2.tern, ./infra3.tern (a restart resumes).

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const TERN = fileURLToPath(new URL('./tern.js', import.meta.url));
// TERN_PORT_OFFSET shifts every port (several clusters on one machine).
const OFFSET = Number(process.env['TERN_PORT_OFFSET'] ?? '0');
const MEMBERS = [
  { name: 'infra1', client: 2379 + OFFSET, peer: 2380 + OFFSET },
  { name: 'infra2', client: 22379 + OFFSET, peer: 22380 + OFFSET },
  { name: 'infra3', client: 32379 + OFFSET, peer: 32380 + OFFSET },
];
const INITIAL_CLUSTER = MEMBERS.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');

function argsFor(m: (typeof MEMBERS)[number]): string[] {
  return [
    '--name', m.name,
    '--listen-client-urls', `http://127.0.0.1:${m.client}`, '--advertise-client-urls', `http://127.0.0.1:${m.client}`,
    '--listen-peer-urls', `http://127.0.0.1:${m.peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peer}`,
    '--initial-cluster-token', 'etcd-cluster-1', '--initial-cluster', INITIAL_CLUSTER, '--initial-cluster-state', 'new',
    ...process.argv.slice(2),
  ];
}

const children = new Map<string, ChildProcess>();
let stopping = false;

function prefix(name: string, stream: NodeJS.ReadableStream): void {
  createInterface({ input: stream }).on('line', (line) => { process.stdout.write(`${name.padEnd(7)}| ${line}\n`); });
}

for (const m of MEMBERS) {
  const child = spawn(process.execPath, [TERN, ...argsFor(m)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.set(m.name, child);
  prefix(m.name, child.stdout);
  prefix(m.name, child.stderr);
  child.once('exit', (code, signal) => {
    children.delete(m.name);
    process.stdout.write(`${m.name.padEnd(7)}| exited ${signal ?? String(code)}\n`);
    // Like goreman, the others keep running (kill one to watch a failover).
    if (children.size === 0) process.exit(stopping ? 0 : 1);
  });
}

function stopAll(): void {
  stopping = true;
  for (const child of children.values()) child.kill('SIGTERM');
}

process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
