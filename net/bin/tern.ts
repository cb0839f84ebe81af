// The Tern member binary: `npm start -- <etcd flags>`. Serves etcd's KV and
// Maintenance APIs on --listen-client-urls. This slice runs a single member; its Raft
// log lives in LMDB under --data-dir, so a restart resumes (peers come next).

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { LmdbLogStore } from '../../storage/lmdbLogStore.js';
import { hostPort, parseFlags } from '../flags.js';
import { Member } from '../member.js';

async function main(): Promise<void> {
  const parsed = parseFlags(process.argv.slice(2));
  if (!parsed.ok) {
    process.stderr.write(`tern: ${parsed.error}\n`);
    process.exit(2);
  }
  const flags = parsed.flags;
  // The Raft log, hard state and snapshots live in LMDB under --data-dir; the key-value
  // state is rebuilt on start from the last snapshot plus the log after it.
  const walDir = path.join(flags.dataDir, 'member', 'wal');
  mkdirSync(walDir, { recursive: true });
  const logStore = LmdbLogStore.open(walDir);
  const member = await Member.start({
    logStore,
    name: flags.name,
    clientAddresses: flags.listenClientUrls.map((u) => hostPort(u) ?? u),
    peerUrls: flags.initialAdvertisePeerUrls,
    clusterToken: flags.initialClusterToken,
    heartbeatMs: flags.heartbeatMs,
    electionMs: flags.electionMs,
  });
  process.stderr.write(`tern: member ${flags.name} (id ${BigInt(member.ids.memberId).toString(16)}) `
    + `serving clients on ${flags.listenClientUrls.join(',')}, data in ${flags.dataDir}\n`);
  const stop = (): void => {
    void member.stop().then(() => logStore.close()).then(() => { process.exit(0); });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Harnesses wait for this line before connecting (etcd prints the same phrase).
  const ready = setInterval(() => {
    if (!member.isLeader()) return;
    clearInterval(ready);
    process.stderr.write('tern: ready to serve client requests\n');
  }, 10);
}

main().catch((error: unknown) => {
  process.stderr.write(`tern: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
