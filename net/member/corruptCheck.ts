// The I/O side of etcd's corruption checks (--experimental-initial-corrupt-check,
// --experimental-corrupt-check-time): hash this member's store, ask each peer's Peer
// service for its HashKV (etcd's /members/hashkv), log, and act on the verdict that
// core/server/corruptCheck.ts reaches.

import { isEtcdError, type EtcdError } from '../../core/errors.js';
import {
  CORRUPT_ALARM_MEMBER_ID, judgeInitial, judgePeriodic, type Finding, type HashAt, type PeerHash,
} from '../../core/server/corruptCheck.js';
import type { EtcdServer } from '../../core/server/server.js';
import { peerDialTarget } from '../config/urls.js';
import type { Logger } from '../log/logger.js';
import type { PeerClients } from '../peer/client.js';
import type { Membership } from '../../core/membership/members.js';
import type { HashKvResult } from '../snapshot/hashKv.js';

export interface CorruptCheckDeps {
  readonly server: EtcdServer;
  readonly membership: Membership;
  readonly peers: PeerClients;
  /** Per peer endpoint (etcd's ReqTimeout: 5 s + 2 × election timeout). */
  readonly timeoutMs: number;
  readonly log: Logger;
  /** This member's HashKV at a revision (0: now), timed in the member's metrics. */
  readonly hashKv: (revision: number) => HashKvResult | EtcdError;
}

/** The refusal of the initial check: the member must not serve. */
export class InitialCorruption extends Error {}

/** This member's hash now. */
function localHash(deps: CorruptCheckDeps): HashAt {
  const result = deps.hashKv(0);
  if (isEtcdError(result)) throw new Error(`cannot hash the local store: ${result.message}`);
  return { hash: result.hash, revision: result.currentRevision, compactRevision: result.compactRevision };
}

function hex(id: bigint): string {
  return id.toString(16);
}

/** etcd's getPeerHashKVs: every other member, each endpoint in turn until one answers. */
async function peerHashes(deps: CorruptCheckDeps, revision: number): Promise<PeerHash[]> {
  const self = deps.membership.selfId;
  const out: PeerHash[] = [];
  for (const member of deps.membership.list()) {
    if (member.id === self || member.peerUrls.length === 0) continue;
    let answer: PeerHash['answer'] = { kind: 'failed', error: 'no endpoint answered' };
    for (const url of member.peerUrls) {
      const address = peerDialTarget(url);
      if (address === null) continue;
      try {
        const got = await deps.peers.hashKv(address, revision, deps.timeoutMs);
        if (isEtcdError(got)) {
          answer = got.name === 'futureRev' || got.name === 'compacted' ? { kind: got.name, error: got.message } : { kind: 'failed', error: got.message };
        } else {
          answer = { kind: 'hash', memberId: hex(got.memberId), hash: { hash: got.hash, revision: got.revision, compactRevision: got.compactRevision } };
          break;
        }
      } catch (error) {
        answer = { kind: 'failed', error: error instanceof Error ? error.message : String(error) };
      }
      deps.log.warn('failed hash kv request', {
        'local-member-id': hex(self), 'requested-revision': revision, 'remote-peer-endpoint': url, error: answer.error,
      }, `${hex(self)} hash-kv error "${answer.error}" on peer "${url}" with revision ${revision}`);
    }
    out.push({ id: hex(member.id), endpoints: member.peerUrls, answer });
  }
  return out;
}

function logFindings(log: Logger, findings: readonly Finding[]): void {
  for (const f of findings) log.log(f.level, f.msg, f.fields, f.plain);
}

/** etcd's CheckInitialHashKV: throws InitialCorruption on a mismatch. */
export async function initialCorruptCheck(deps: CorruptCheckDeps): Promise<void> {
  const selfId = hex(deps.membership.selfId);
  deps.log.info('starting initial corruption check', { 'local-member-id': selfId, timeout: `${deps.timeoutMs / 1000}s` },
    `${selfId} starting initial corruption check with timeout ${deps.timeoutMs / 1000}s...`);
  const local = localHash(deps);
  const verdict = judgeInitial(selfId, local, await peerHashes(deps, local.revision));
  logFindings(deps.log, verdict.findings);
  if (verdict.error !== null) throw new InitialCorruption(verdict.error);
}

/**
 * etcd's monitorKVHash: every `intervalMs`, if this member leads, one checkHashKV; a
 * round still running when the next is due is not doubled (at most one in flight).
 */
export function periodicCorruptCheck(deps: CorruptCheckDeps, intervalMs: number): NodeJS.Timeout {
  deps.log.info('enabled corruption checking', { 'local-member-id': hex(deps.membership.selfId), interval: `${intervalMs / 1000}s` },
    `enabled corruption checking with ${intervalMs / 1000}s interval`);
  let running = false;
  return setInterval(() => {
    if (running || deps.server.driver.status().role !== 'leader') return;
    running = true;
    checkOnce(deps).catch((error: unknown) => {
      deps.log.warn('failed to check hash KV', { error: error instanceof Error ? error.message : String(error) });
    }).finally(() => { running = false; });
  }, intervalMs);
}

async function checkOnce(deps: CorruptCheckDeps): Promise<void> {
  const first = localHash(deps);
  const peers = await peerHashes(deps, first.revision);
  const barrier = await new Promise<string | null>((resolve) => {
    deps.server.readBarrier((error) => { resolve(error === null ? null : error.message); });
  });
  if (barrier !== null) throw new Error(barrier);
  const verdict = judgePeriodic(first, localHash(deps), peers);
  logFindings(deps.log, verdict.findings);
  if (verdict.raise) deps.server.raiseCorrupt(CORRUPT_ALARM_MEMBER_ID, () => undefined);
}
