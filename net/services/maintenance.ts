// etcd's Maintenance service: Status, Hash, HashKV, Snapshot, Defragment, Alarm and
// MoveLeader.

import type * as grpc from '@grpc/grpc-js';
import { etcdError, isEtcdError, type EtcdErrorName } from '../../core/errors.js';
import type { NodeId } from '../../core/raft/types.js';
import type { ResponseHeader } from '../../core/server/server.js';
import { hashKv } from '../snapshot/hashKv.js';
import { backendHash, snapshotImage, snapshotSize } from '../snapshot/snapshotImage.js';
import { int, text, type Wire } from '../wire/message.js';
import { grpcError, unconvertedAuthError } from '../wire/status.js';
import { ALARM_TYPES, type AlarmAction, type AlarmMember } from '../../core/server/alarms.js';
import { adminOnly, adminOnlyStream, ETCD_VERSION, immediate, unary, wireHeader, type ServiceContext, type UnaryHandler } from './context.js';

/** etcd's snapshot send buffer: the image goes out in chunks of this size. */
const SNAPSHOT_CHUNK = 32 * 1024;
/** How long MoveLeader waits for the target to take over (etcd: a few election timeouts). */
const MOVE_LEADER_TIMEOUT_MS = 5_000;

export function maintenanceHandlers(context: ServiceContext): grpc.UntypedServiceImplementation {
  const { server } = context;
  const head = headerOf(context);
  return {
    Status: statusHandler(context),
    Hash: adminOnly(context, immediate(() => {
      const hash = timed(context, 'hash', () => backendHash(server.machine, context.members?.() ?? []));
      return { header: head(), hash };
    }), unconvertedAuthError),
    HashKV: adminOnly(context, immediate((request) => {
      const result = timed(context, 'hashRev', () => hashKv(server.machine.store, int(request['revision'])));
      if (isEtcdError(result)) return result;
      return { header: head(result.currentRevision), hash: result.hash, compact_revision: String(result.compactRevision) };
    }), unconvertedAuthError),
    Snapshot: adminOnlyStream(context, snapshotHandler(context)),
    // Tern's backend has no free pages to return: defragmenting is a successful no-op.
    // etcd 3.4 answers it with an empty message, no header.
    Defragment: adminOnly(context, immediate(() => ({})), unconvertedAuthError),
    Alarm: alarmHandler(context),
    MoveLeader: moveLeaderHandler(context),
  };
}

/** Runs a hash, reporting how long it took (etcd times Hash and HashKV the same way). */
function timed<T>(context: ServiceContext, kind: 'hash' | 'hashRev', body: () => T): T {
  const started = process.hrtime.bigint();
  const result = body();
  context.observeHash?.(kind, Number(process.hrtime.bigint() - started) / 1e9);
  return result;
}

/** The response header at the server's revision, or at `revision`. */
function headerOf(context: ServiceContext): (revision?: number) => Wire {
  return (revision) => wireHeader(context, context.server.header(revision));
}

function statusHandler(context: ServiceContext): UnaryHandler {
  const { server } = context;
  return (_rpc, callback) => {
    const s = server.driver.status();
    // etcd reports its bbolt file's size; Tern, the size of the bbolt file a snapshot would be.
    const size = String(snapshotSize(server.machine, context.members?.() ?? []));
    callback(null, {
      header: headerOf(context)(),
      version: ETCD_VERSION,
      dbSize: size,
      leader: s.lead === 0 ? '0' : context.wireIdOf(s.lead),
      raftIndex: String(s.hardState.commit),
      raftTerm: String(s.hardState.term),
      raftAppliedIndex: String(s.applied),
      errors: [...(s.lead === 0 ? ['etcdserver: no leader'] : []), ...server.machine.alarms.get('NONE').map(alarmText)],
      dbSizeInUse: size,
      isLearner: s.confState.learners.includes(server.memberId),
    });
  };
}

function snapshotHandler(context: ServiceContext): grpc.handleServerStreamingCall<Wire, Wire> {
  return (call) => {
    const image = snapshotImage(context.server.machine, context.members?.() ?? []);
    // As etcd 3.4: no header; remaining_bytes counts down the data; then the checksum.
    for (let sent = 0; sent < image.data.length; sent += SNAPSHOT_CHUNK) {
      const blob = image.data.subarray(sent, sent + SNAPSHOT_CHUNK);
      call.write({ remaining_bytes: String(image.data.length - sent - blob.length), blob });
    }
    call.write({ remaining_bytes: '0', blob: image.sha256 });
    call.end();
  };
}

/** etcd's Alarm: GET, ACTIVATE and DEACTIVATE go through Raft (core/server/alarms.ts). */
function alarmHandler(context: ServiceContext): UnaryHandler {
  return unary<{ header: ResponseHeader; alarms: readonly AlarmMember[] }>(context, (request, reply, credentials) => {
    const action = ACTIONS.get(text(request['action'], 'GET'));
    const alarm = ALARM_TYPES.find((type) => type === text(request['alarm'], 'NONE'));
    const memberId = text(request['memberID'], '0');
    // An action or type outside etcd's enums: etcd's applier answers an empty response.
    if (action === undefined || alarm === undefined || !/^\d+$/.test(memberId)) {
      reply({ header: context.server.header(), alarms: [] });
      return;
    }
    context.server.alarm({ action, memberId, alarm }, reply, credentials);
    // etcd 3.4's AlarmResponse carries no header (the apply fills none, and the service adds none).
  }, (r) => ({ alarms: r.alarms.map((a) => ({ memberID: a.memberId, alarm: a.alarm })) }));
}

const ACTIONS = new Map<string, AlarmAction>([['GET', 'get'], ['ACTIVATE', 'activate'], ['DEACTIVATE', 'deactivate']]);

/** Go's String() of an etcdserverpb.AlarmMember (compact text, zero fields left out), as Status lists alarms. */
export function alarmText(a: AlarmMember): string {
  return `${a.memberId === '0' ? '' : `memberID:${a.memberId} `}${a.alarm === 'NONE' ? '' : `alarm:${a.alarm} `}`;
}

function moveLeaderHandler(context: ServiceContext): UnaryHandler {
  const { server } = context;
  return (rpc, callback) => {
    const fail = (name: EtcdErrorName): void => {
      callback(grpcError(etcdError(name)));
    };
    const status = server.driver.status();
    if (status.role !== 'leader') {
      fail('notLeader');
      return;
    }
    const target = context.coreIdOf(text(rpc.request['targetID'], '0'));
    if (target === null || !isVoter(context, target)) {
      fail('badLeaderTransferee');
      return;
    }
    if (target === server.memberId) {
      callback(null, {}); // etcd 3.4's MoveLeaderResponse has no header
      return;
    }
    server.driver.transferLeader(target);
    const started = Date.now();
    const poll = setInterval(() => {
      const now = server.driver.status();
      if (now.lead === target) {
        clearInterval(poll);
        callback(null, {}); // etcd 3.4's MoveLeaderResponse has no header
      } else if (Date.now() - started > MOVE_LEADER_TIMEOUT_MS) {
        clearInterval(poll);
        fail('timeoutLeaderTransfer');
      }
    }, 10);
  };
}

function isVoter(context: ServiceContext, id: NodeId): boolean {
  const conf = context.server.driver.status().confState;
  return conf.voters.includes(id) || conf.learners.includes(id);
}

