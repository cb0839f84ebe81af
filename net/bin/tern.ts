// The Tern member binary: `npm start -- <etcd flags>`. Serves etcd's KV and
// Maintenance APIs on --listen-client-urls. This slice runs a single member whose
// data lives in memory (persistence on LMDB and peers come next; see the README).

import { hostPort, parseFlags } from '../flags.js';
import { Member } from '../member.js';

async function main(): Promise<void> {
  const parsed = parseFlags(process.argv.slice(2));
  if (!parsed.ok) {
    process.stderr.write(`tern: ${parsed.error}\n`);
    process.exit(2);
  }
  const flags = parsed.flags;
  const member = await Member.start({
    name: flags.name,
    clientAddresses: flags.listenClientUrls.map((u) => hostPort(u) ?? u),
    peerUrls: flags.initialAdvertisePeerUrls,
    clusterToken: flags.initialClusterToken,
    heartbeatMs: flags.heartbeatMs,
    electionMs: flags.electionMs,
  });
  process.stderr.write(`tern: member ${flags.name} (id ${BigInt(member.ids.memberId).toString(16)}) `
    + `serving clients on ${flags.listenClientUrls.join(',')}; data is volatile in this version (--data-dir ${flags.dataDir} is not used yet)\n`);
  const stop = (): void => {
    void member.stop().then(() => { process.exit(0); });
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
