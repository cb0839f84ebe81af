// The Tern member binary: `npm start -- <etcd flags>`. Serves etcd's KV, Maintenance
// and Cluster APIs on --listen-client-urls and Tern's peer protocol on
// --listen-peer-urls. The Raft log lives in LMDB under --data-dir, the membership
// record beside it, so a restart resumes.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { AutoCompaction } from '../../core/server/autoCompactor.js';
import { LmdbLogStore } from '../../storage/lmdbLogStore.js';
import { hostPort, parseFlags, type Flags } from '../flags.js';
import { Member } from '../member.js';
import { bootstrapMembership } from '../peer/bootstrap.js';

const say = (line: string): void => { process.stderr.write(`tern: ${line}\n`); };

async function main(): Promise<void> {
  const parsed = parseFlags(process.argv.slice(2));
  if (!parsed.ok) {
    say(parsed.error);
    process.exit(parsed.exitCode);
  }
  const flags = parsed.flags;
  const memberDir = path.join(flags.dataDir, 'member');
  const walDir = path.join(memberDir, 'wal');
  mkdirSync(walDir, { recursive: true });
  const boot = await bootstrapMembership(flags, path.join(memberDir, 'members.json'));
  if (!boot.ok) {
    say(boot.error);
    process.exit(1);
  }
  // The Raft log, hard state and snapshots live in LMDB under --data-dir; the key-value
  // state is rebuilt on start from the last snapshot plus the log after it.
  const logStore = LmdbLogStore.open(walDir);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void member.stop().then(() => logStore.close()).then(() => { process.exit(0); });
  };
  const member: Member = await Member.start({
    logStore,
    membership: boot.membership,
    name: flags.name,
    clientAddresses: flags.listenClientUrls.map((u) => hostPort(u) ?? u),
    peerAddresses: flags.listenPeerUrls.map((u) => hostPort(u) ?? u),
    advertiseClientUrls: flags.advertiseClientUrls,
    clusterToken: flags.initialClusterToken,
    heartbeatMs: flags.heartbeatMs,
    electionMs: flags.electionMs,
    snapshotCount: flags.snapshotCount,
    ...autoCompaction(flags),
    log: say,
    onRemoved: () => {
      say('the member has been permanently removed from the cluster');
      stop();
    },
  });
  say(`member ${flags.name} (id ${boot.membership.selfId.toString(16)}, cluster ${boot.membership.clusterId.toString(16)}) `
    + `serving clients on ${flags.listenClientUrls.join(',')}, peers on ${flags.listenPeerUrls.join(',')}, data in ${flags.dataDir}`);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Harnesses wait for this line before connecting (etcd prints the same phrase): the
  // member has joined a cluster that has a leader (itself or another).
  const ready = setInterval(() => {
    if (!member.hasLeader()) return;
    clearInterval(ready);
    say('ready to serve client requests');
  }, 10);
}

main().catch((error: unknown) => {
  say(error instanceof Error ? error.message : String(error));
  process.exit(1);
});

/** etcd's auto-compaction flags as the core's setting (retention 0: off, etcd's default). */
function autoCompaction(flags: Flags): { autoCompaction?: AutoCompaction } {
  if (flags.autoCompactionRetention === 0) return {};
  return flags.autoCompactionMode === 'periodic'
    ? { autoCompaction: { mode: 'periodic', retentionMs: flags.autoCompactionRetention } }
    : { autoCompaction: { mode: 'revision', retention: flags.autoCompactionRetention } };
}
