// The member fault: remove a member from the cluster and add it back, learner first, as
// an operator replaces a member (etcd's runtime-reconfiguration guide):
//   MemberRemove (through a live member) → stop its process → move its data dir aside
//   → (down for the fault's duration) → MemberAdd as learner with its peer URL → start it
//   with --initial-cluster-state existing → wait until its revision reaches the leader's
//   → MemberPromote (again while the leader finds it not yet in sync) → wait until every
//   live member lists it as a voter under its name.
// It comes back under its old name (names stay unique) and a new member ID. Each step is
// noted with its time since the fault began, for nemesis.jsonl.

import { CallError, EtcdClient, statusOf, type Wire } from './client.js';
import type { RealCluster } from './cluster.js';
import path from 'node:path';
import type { ClusterMember } from './summary.js';

/** Each cluster call's deadline, and how long a step retries before the fault gives up. */
const CALL_TIMEOUT_MS = 2000;
const STEP_BOUND_MS = 15_000;
const RETRY_PAUSE_MS = 200;

const sleep = (ms: number): Promise<void> => new Promise((done) => { setTimeout(done, Math.max(0, ms)); });
const messageOf = (error: unknown): string => (error instanceof CallError || error instanceof Error ? error.message : String(error));

interface WireMember {
  readonly id: string;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly isLearner: boolean;
}

/** A 64-bit member id: decimal text on the wire (load.ts). */
const idOf = (v: unknown): string => (typeof v === 'string' ? v : '0');

function membersOf(response: Wire): WireMember[] {
  const list = Array.isArray(response['members']) ? (response['members'] as Wire[]) : [];
  return list.map((m) => ({
    id: idOf(m['ID']), name: typeof m['name'] === 'string' ? m['name'] : '',
    peerUrls: Array.isArray(m['peerURLs']) ? (m['peerURLs'] as unknown[]).map(String) : [], isLearner: m['isLearner'] === true,
  }));
}

/** The step log of one fault. */
class Steps {
  readonly lines: string[] = [];
  private readonly t0 = performance.now();
  note(text: string): void {
    this.lines.push(`+${Math.round(performance.now() - this.t0)}ms ${text}`);
  }
}

/**
 * One cluster call through the live members other than `avoid` (the leader first, then the
 * others in turn), again until `accept` takes the answer or an error, or the bound passes.
 * `accept` maps an error message to a result when that error means done (null: retry).
 */
async function throughLive<T>(
  cluster: RealCluster, aborted: () => boolean, avoid: number, call: (client: EtcdClient) => Promise<T>, accept: (message: string) => T | null,
): Promise<{ ok: true; value: T; via: string } | { ok: false; error: string }> {
  const result = await attempts(cluster, aborted, avoid, call, accept);
  // Retries are part of what happened: the first error says why it took them.
  const retried = result.tries > 1 ? ` (try ${result.tries}; first error: ${result.firstError})` : '';
  return result.ok ? { ok: true, value: result.value, via: `${result.via}${retried}` } : { ok: false, error: `${result.error}${retried}` };
}

async function attempts<T>(
  cluster: RealCluster, aborted: () => boolean, avoid: number, call: (client: EtcdClient) => Promise<T>, accept: (message: string) => T | null,
): Promise<({ ok: true; value: T; via: string } | { ok: false; error: string }) & { tries: number; firstError: string }> {
  const deadline = performance.now() + STEP_BOUND_MS;
  let error = 'no live member to ask';
  let firstError = '';
  let tries = 0;
  for (let attempt = 0; performance.now() < deadline && !aborted(); attempt++) {
    const live = cluster.members.map((_, i) => i).filter((i) => i !== avoid && cluster.canLead(i));
    const index = live[attempt % Math.max(1, live.length)];
    const endpoint = index === undefined ? undefined : cluster.endpoints[index];
    if (index !== undefined && endpoint !== undefined) {
      const client = new EtcdClient(endpoint, CALL_TIMEOUT_MS);
      const via = cluster.members[index]?.name ?? '?';
      tries += 1;
      try {
        return { ok: true, value: await call(client), via, tries, firstError };
      } catch (e: unknown) {
        error = messageOf(e);
        if (firstError === '') firstError = error;
        const accepted = accept(error);
        if (accepted !== null) return { ok: true, value: accepted, via, tries, firstError };
      } finally {
        client.close();
      }
    }
    await sleep(RETRY_PAUSE_MS);
  }
  return { ok: false, error, tries, firstError };
}

const never = (): null => null;

/** Removes member `victim` and adds it back; resolves with the step log (the fault's detail). `aborted`: the run was stopped (every wait ends). */
export async function replaceMember(cluster: RealCluster, victim: number, downMs: number, aborted: () => boolean): Promise<string> {
  const steps = new Steps();
  const name = cluster.members[victim]?.name ?? '?';
  const listed = await throughLive(cluster, aborted, victim, async (c) => membersOf(await c.call('cluster', 'MemberList', {})), never);
  if (!listed.ok) { steps.note(`MemberList failed: ${listed.error}; nothing removed`); return steps.lines.join('; '); }
  const old = listed.value.find((m) => m.name === name);
  if (old === undefined) { steps.note(`${name} not in MemberList; nothing removed`); return steps.lines.join('; '); }

  // A retry after a lost answer finds it gone: that is done too.
  const removed = await throughLive(cluster, aborted, victim, (c) => c.call('cluster', 'MemberRemove', { ID: old.id }), (m) => (/member not found/.test(m) ? {} : null));
  if (!removed.ok) { steps.note(`MemberRemove ${name} (${old.id}) failed: ${removed.error}; left as is`); return steps.lines.join('; '); }
  steps.note(`removed ${name} id ${old.id} through ${removed.via}`);
  await cluster.kill(victim);
  steps.note(`stopped; data dir moved aside to ${path.basename(cluster.wipe(victim))}`);
  await sleep(downMs);

  const peerUrl = cluster.peerUrl(victim);
  const added = await throughLive(cluster, aborted, victim, async (c) => {
    try {
      const r = await c.call('cluster', 'MemberAdd', { peerURLs: [peerUrl], isLearner: true });
      return { id: idOf((r['member'] as Wire | undefined)?.['ID']), members: membersOf(r) };
    } catch (error: unknown) {
      // A try whose answer was lost (timed out) may have added it after all: that one it is.
      if (!/Peer URLs already exists/.test(messageOf(error))) throw error;
      const members = membersOf(await c.call('cluster', 'MemberList', {}));
      const mine = members.find((m) => m.peerUrls.includes(peerUrl));
      if (mine === undefined) throw error;
      return { id: mine.id, members };
    }
  }, never);
  if (!added.ok) { steps.note(`MemberAdd as learner failed: ${added.error}; ${name} stays out`); return steps.lines.join('; '); }
  const { id } = added.value;
  // The members it is told of: the current ones (the new one has no name until it starts) and itself.
  const initialCluster = added.value.members
    .flatMap((m) => (m.id === id ? m.peerUrls.map((u) => `${name}=${u}`) : m.name === '' ? [] : m.peerUrls.map((u) => `${m.name}=${u}`)))
    .join(',');
  steps.note(`added ${name} as learner id ${id} (${peerUrl}) through ${added.via}`);
  await cluster.rejoin(victim, initialCluster);
  steps.note(`started with --initial-cluster-state existing --initial-cluster ${initialCluster}`);

  const caughtUp = await awaitCaughtUp(cluster, victim, aborted);
  steps.note(caughtUp);

  // The leader refuses until it finds the learner's log close enough to its own.
  const promoted = await throughLive(cluster, aborted, victim, (c) => c.call('cluster', 'MemberPromote', { ID: id }),
    (m) => (/can only promote a learner member which is in sync with leader/.test(m) ? null : /can only promote a learner member/.test(m) ? {} : null));
  steps.note(promoted.ok ? `promoted ${name} through ${promoted.via}` : `MemberPromote failed: ${promoted.error}; ${name} is left a learner`);
  if (promoted.ok) steps.note(await awaitListedEverywhere(cluster, name, id, aborted));
  return steps.lines.join('; ');
}

/**
 * Until every live member's MemberList has the member as a voter under its name (bounded):
 * the fault is over when the cluster says it is whole again, wherever a client asks.
 */
async function awaitListedEverywhere(cluster: RealCluster, name: string, id: string, aborted: () => boolean): Promise<string> {
  const deadline = performance.now() + STEP_BOUND_MS;
  let missing: string[] = [];
  while (performance.now() < deadline && !aborted()) {
    const live = cluster.members.map((_, i) => i).filter((i) => cluster.canLead(i));
    const answers = await Promise.all(live.map(async (i) => {
      const client = new EtcdClient(cluster.endpoints[i] ?? '', CALL_TIMEOUT_MS);
      try {
        return membersOf(await client.call('cluster', 'MemberList', {}));
      } catch {
        return null;
      } finally {
        client.close();
      }
    }));
    missing = answers.flatMap((list, i) => (list?.some((m) => m.id === id && m.name === name && !m.isLearner) === true ? [] : [cluster.members[live[i] ?? -1]?.name ?? '?']));
    if (missing.length === 0) return `listed as voter ${name} by every member`;
    await sleep(RETRY_PAUSE_MS);
  }
  return `not listed as voter ${name} within ${STEP_BOUND_MS} ms by ${missing.join(', ')}`;
}

/** The cluster's members as a live one lists them (the run's closing record), or null. */
export async function listMembers(cluster: RealCluster): Promise<ClusterMember[] | null> {
  const listed = await throughLive(cluster, () => false, -1, async (c) => membersOf(await c.call('cluster', 'MemberList', {})), never);
  return listed.ok ? listed.value.map((m) => ({ name: m.name, id: m.id, isLearner: m.isLearner })) : null;
}

/** Until the member's revision reaches the leader's (bounded): what it saw. */
async function awaitCaughtUp(cluster: RealCluster, index: number, aborted: () => boolean): Promise<string> {
  const endpoint = cluster.endpoints[index] ?? '';
  const deadline = performance.now() + STEP_BOUND_MS;
  let last = 'no status';
  while (performance.now() < deadline && !aborted()) {
    const leaderRevision = await leaderRevisionOf(cluster, index);
    const client = new EtcdClient(endpoint, CALL_TIMEOUT_MS);
    const mine = await statusOf(client, CALL_TIMEOUT_MS).finally(() => { client.close(); });
    if (leaderRevision !== null && mine !== null) {
      last = `revision ${mine.revision}, the leader's ${leaderRevision}`;
      if (mine.revision >= leaderRevision) return `caught up: ${last}`;
    }
    await sleep(RETRY_PAUSE_MS);
  }
  return `not caught up within ${STEP_BOUND_MS} ms (${last}); promoting anyway`;
}

/** The revision of the member the others (not `avoid`) call leader, or null. */
async function leaderRevisionOf(cluster: RealCluster, avoid: number): Promise<number | null> {
  for (const [i, endpoint] of cluster.endpoints.entries()) {
    if (i === avoid || !cluster.canLead(i)) continue;
    const client = new EtcdClient(endpoint, CALL_TIMEOUT_MS);
    const status = await statusOf(client, CALL_TIMEOUT_MS).finally(() => { client.close(); });
    if (status !== null && status.leader !== '0' && status.leader === status.memberId) return status.revision;
  }
  return null;
}
