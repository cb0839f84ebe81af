// etcd 3.4's corruption checks (etcdserver/corrupt.go), as decisions over hashes already
// fetched: the driver (net/member/corruptCheck.ts) computes this member's HashKV, asks
// the peers for theirs and hands both here; what to log and whether to refuse or to
// raise CORRUPT is decided here, with no I/O.
//
//   initial  (CheckInitialHashKV): a peer's hash at this member's revision differs while
//            the compact revisions agree → refuse to start. A different compact revision,
//            a peer behind or ahead, or a peer unreachable is logged and passed over.
//   periodic (checkHashKV, on the leader): the leader hashes twice around a linearizable
//            barrier; the two differing at the same revisions, a follower ahead of the
//            leader in revision or compact revision, or a follower's hash differing at the
//            leader's first compact revision → one CORRUPT alarm. etcd 3.4.23 raises it for
//            member id 0 ("it isn't clear which member's data is corrupted").

/** Fields of a log line (the shape of net/log's LogFields, which core cannot import). */
export type LogFieldsLike = Readonly<Record<string, string | number | boolean | readonly string[]>>;

export interface HashAt {
  readonly hash: number;
  readonly revision: number;
  readonly compactRevision: number;
}

/** What a peer answered: its hash, or why not (etcd's ErrFutureRev, ErrCompacted, or any other failure). */
export type PeerAnswer =
  | { readonly kind: 'hash'; readonly memberId: string; readonly hash: HashAt }
  | { readonly kind: 'futureRev' | 'compacted' | 'failed'; readonly error: string };

export interface PeerHash {
  /** The peer's etcd member id, in hex as etcd prints types.ID. */
  readonly id: string;
  readonly endpoints: readonly string[];
  readonly answer: PeerAnswer;
}

/** One line to log, in etcd's zap message and fields and its capnslog text. */
export interface Finding {
  readonly level: 'info' | 'warn';
  readonly msg: string;
  readonly fields: LogFieldsLike;
  readonly plain: string;
}

export interface InitialVerdict {
  readonly findings: readonly Finding[];
  /** Non-null: refuse to start, with etcd's error ("<id> found data inconsistency with peers"). */
  readonly error: string | null;
}

/** etcd's CheckInitialHashKV once the peers answered. `selfId` in hex. */
export function judgeInitial(selfId: string, local: HashAt, peers: readonly PeerHash[]): InitialVerdict {
  const findings: Finding[] = [];
  const localFields = {
    'local-member-id': selfId, 'local-member-revision': local.revision,
    'local-member-compact-revision': local.compactRevision, 'local-member-hash': local.hash,
  };
  let mismatches = 0;
  for (const peer of peers) {
    const { answer } = peer;
    if (answer.kind === 'hash') {
      if (answer.hash.hash === local.hash) continue;
      const fields = {
        ...localFields, 'remote-peer-id': answer.memberId, 'remote-peer-endpoints': peer.endpoints,
        'remote-peer-revision': answer.hash.revision, 'remote-peer-compact-revision': answer.hash.compactRevision,
        'remote-peer-hash': answer.hash.hash,
      };
      if (answer.hash.compactRevision === local.compactRevision) {
        mismatches++;
        findings.push({
          level: 'warn', msg: 'found different hash values from remote peer', fields,
          plain: `${selfId}'s hash ${local.hash} != ${answer.memberId}'s hash ${answer.hash.hash} `
            + `(revision ${local.revision}, peer revision ${answer.hash.revision}, compact revision ${local.compactRevision})`,
        });
      } else {
        findings.push({
          level: 'warn', msg: 'found different compact revision values from remote peer', fields,
          plain: `${selfId} cannot check hash of peer(${answer.memberId}): peer has a different compact revision `
            + `${answer.hash.compactRevision} (revision:${local.revision})`,
        });
      }
      continue;
    }
    const fields = { ...localFields, 'remote-peer-id': peer.id, 'remote-peer-endpoints': peer.endpoints, error: answer.error };
    const eps = `[${peer.endpoints.map((e) => `"${e}"`).join(' ')}]`;
    if (answer.kind === 'futureRev') {
      findings.push({
        level: 'warn', msg: 'cannot fetch hash from slow remote peer', fields,
        plain: `${selfId} cannot check the hash of peer(${eps}) at revision ${local.revision}: peer is lagging behind("${answer.error}")`,
      });
    } else if (answer.kind === 'compacted') {
      findings.push({
        level: 'warn', msg: 'cannot fetch hash from remote peer; local member is behind', fields,
        plain: `${selfId} cannot check the hash of peer(${eps}) at revision ${local.revision}: local node is lagging behind("${answer.error}")`,
      });
    }
    // Unreachable: the fetch already logged it ("failed hash kv request"); etcd goes on.
  }
  if (mismatches > 0) return { findings, error: `${selfId} found data inconsistency with peers` };
  findings.push({
    level: 'info', msg: 'initial corruption checking passed; no corruption', fields: { 'local-member-id': selfId },
    plain: `${selfId} succeeded on initial corruption checking: no corruption`,
  });
  return { findings, error: null };
}

export interface PeriodicVerdict {
  readonly findings: readonly Finding[];
  /** Raise CORRUPT (etcd 3.4.23: for member id 0) through Raft. */
  readonly raise: boolean;
}

/**
 * etcd's checkHashKV on the leader: `first` hashed before the peers were asked, `second`
 * after a linearizable barrier; the peers answered for `first.revision`.
 */
export function judgePeriodic(first: HashAt, second: HashAt, peers: readonly PeerHash[]): PeriodicVerdict {
  const findings: Finding[] = [];
  let raise = false;
  if (second.hash !== first.hash && second.revision === first.revision && second.compactRevision === first.compactRevision) {
    raise = true;
    findings.push({
      level: 'warn', msg: 'found hash mismatch',
      fields: {
        'revision-1': first.revision, 'compact-revision-1': first.compactRevision, 'hash-1': first.hash,
        'revision-2': second.revision, 'compact-revision-2': second.compactRevision, 'hash-2': second.hash,
      },
      plain: `mismatched hashes ${first.hash} and ${second.hash} for revision ${first.revision}`,
    });
  }
  let checked = 0;
  for (const peer of peers) {
    const { answer } = peer;
    if (answer.kind !== 'hash') continue;
    checked++;
    const theirs = answer.hash;
    if (theirs.revision > second.revision) {
      raise = true;
      findings.push({
        level: 'warn', msg: 'revision from follower must be less than or equal to leader\'s',
        fields: { 'leader-revision': second.revision, 'follower-revision': theirs.revision, 'follower-peer-id': peer.id },
        plain: `revision ${theirs.revision} from member ${peer.id}, expected at most ${second.revision}`,
      });
    }
    if (theirs.compactRevision > second.compactRevision) {
      raise = true;
      findings.push({
        level: 'warn', msg: 'compact revision from follower must be less than or equal to leader\'s',
        fields: { 'leader-compact-revision': second.compactRevision, 'follower-compact-revision': theirs.compactRevision, 'follower-peer-id': peer.id },
        plain: `compact revision ${theirs.compactRevision} from member ${peer.id}, expected at most ${second.compactRevision}`,
      });
    }
    if (theirs.compactRevision === first.compactRevision && theirs.hash !== first.hash) {
      raise = true;
      findings.push({
        level: 'warn', msg: 'same compact revision then hashes must match',
        fields: {
          'leader-compact-revision': second.compactRevision, 'leader-hash': first.hash,
          'follower-compact-revision': theirs.compactRevision, 'follower-hash': theirs.hash, 'follower-peer-id': peer.id,
        },
        plain: `hash ${theirs.hash} at revision ${first.revision} from member ${peer.id}, expected hash ${first.hash}`,
      });
    }
  }
  findings.push({
    level: 'info', msg: 'finished peer corruption check', fields: { 'number-of-peers-checked': checked },
    plain: 'finished peer corruption check',
  });
  return { findings, raise };
}

/** The member id etcd 3.4.23 raises CORRUPT for (see above). */
export const CORRUPT_ALARM_MEMBER_ID = '0';
