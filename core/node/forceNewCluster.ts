// etcd's --force-new-cluster (restartAsStandaloneNode): a member restarts as a cluster
// of one, keeping its data. Its log gets, after its last entry, one committed conf
// change per other member removing it (and one adding itself, if it is not a voter),
// so that the normal apply path shrinks the configuration and the membership record.
//
// One difference from etcd, on purpose: etcd first drops the entries past its WAL's
// commit index. Tern's durable commit index can trail what was acknowledged by one write
// (storage/deferredWrites.ts), so dropping the tail could drop acknowledged writes; the
// whole local log is kept and committed instead. An entry never committed elsewhere then
// takes effect, as a write whose client got no answer may.

import { applyConfChange, decodeConfChange, encodeConfChange } from '../raft/confchange.js';
import type { ConfChange, ConfState, Entry, NodeId } from '../raft/types.js';
import { invariant } from '../util/invariant.js';
import type { LogWrite, RecoveredLog } from './ports.js';

export interface ForcedCluster {
  /** What to write to the log store before the member starts. */
  readonly write: LogWrite;
  /** The members the write removes. */
  readonly removed: readonly NodeId[];
}

/**
 * The log write that makes `self` the only member. `base` is the configuration the
 * driver starts from without a snapshot (its initial voters); `contextFor` gives each
 * change the context the membership application reads (etcd's ConfChange.Context).
 */
export function forceNewClusterWrite(
  recovered: RecoveredLog, base: ConfState, self: NodeId, contextFor: (change: ConfChange) => Uint8Array | undefined,
): ForcedCluster {
  invariant(Number.isSafeInteger(self) && self > 0, () => `invalid member id ${self}`);
  let conf = recovered.snapshot?.metadata.confState ?? base;
  for (const entry of recovered.entries) {
    if (entry.type !== 'confChange') continue;
    const change = decodeConfChange(entry.data);
    invariant(change !== null, () => `undecodable conf change at index ${entry.index}`);
    const next = applyConfChange(conf, change);
    if (next.ok) conf = next.next;
  }
  const changes: ConfChange[] = [];
  if (!conf.voters.includes(self)) changes.push({ type: 'addVoter', nodeId: self });
  const others = [...conf.voters, ...conf.learners].filter((id) => id !== self);
  for (const id of others) changes.push({ type: 'removeVoter', nodeId: id });
  const lastEntry = recovered.entries.at(-1);
  const lastIndex = lastEntry?.index ?? recovered.snapshot?.metadata.index ?? 0;
  const term = Math.max(recovered.hardState.term, lastEntry?.term ?? 0, recovered.snapshot?.metadata.term ?? 0);
  const entries: Entry[] = changes.map((change, i) => {
    const context = contextFor(change);
    return { term, index: lastIndex + 1 + i, type: 'confChange', data: encodeConfChange(context === undefined ? change : { ...change, context }) };
  });
  const commit = lastIndex + entries.length;
  return {
    write: { hardState: { ...recovered.hardState, term, commit }, entries, snapshot: null, mustSync: true },
    removed: others,
  };
}
