// etcd's Cluster service: MemberList from this member's view (as etcd 3.4 serves it,
// without a Raft round), and membership changes through Raft (core/membership/reconfig.ts).

import type * as grpc from '@grpc/grpc-js';
import { isEtcdError } from '../../core/errors.js';
import type { EtcdServer } from '../../core/server/server.js';
import type { MemberRecord, Membership } from '../../core/membership/members.js';
import type { ReconfigOutcome, ReconfigReply, Reconfigurer } from '../../core/membership/reconfig.js';
import type { Wire } from '../wire/message.js';
import { grpcError } from '../wire/status.js';
import { adminOnly } from './context.js';

export interface ClusterDeps {
  readonly server: EtcdServer;
  readonly membership: Membership;
  readonly reconfig: Reconfigurer;
}

type Handler = grpc.handleUnaryCall<Wire, Wire>;

export function memberWire(m: MemberRecord): Wire {
  return { ID: m.id.toString(), name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner };
}

export function clusterHandlers(deps: ClusterDeps): grpc.UntypedServiceImplementation {
  const { server, membership, reconfig } = deps;
  // etcd 3.4 fills the cluster RPCs' header without a revision.
  const header = (): Wire => ({
    cluster_id: membership.clusterId.toString(), member_id: membership.selfId.toString(),
    revision: '0', raft_term: String(server.driver.status().hardState.term),
  });
  const members = (): Wire[] => membership.list().map(memberWire);
  /** The reply a membership change answers through. */
  const answer = (callback: grpc.sendUnaryData<Wire>, withMember = false): ReconfigReply => (result: ReconfigOutcome) => {
    if (isEtcdError(result)) callback(grpcError(result));
    else callback(null, withMember ? { header: header(), member: memberWire(result), members: members() } : { header: header(), members: members() });
  };
  const id = (w: Wire): bigint => BigInt(typeof w['ID'] === 'string' ? w['ID'] : '0');
  const urls = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

  const memberList: Handler = (_call, callback) => { callback(null, { header: header(), members: members() }); };
  const memberAdd: Handler = (call, callback) => {
    reconfig.add(urls(call.request['peerURLs']), call.request['isLearner'] === true, answer(callback, true));
  };
  const memberRemove: Handler = (call, callback) => { reconfig.remove(id(call.request), answer(callback)); };
  const memberUpdate: Handler = (call, callback) => {
    reconfig.update(id(call.request), urls(call.request['peerURLs']), answer(callback));
  };
  const memberPromote: Handler = (call, callback) => { reconfig.promote(id(call.request), answer(callback)); };
  return {
    MemberList: memberList,
    MemberAdd: adminOnly(deps, memberAdd),
    MemberRemove: adminOnly(deps, memberRemove),
    MemberUpdate: adminOnly(deps, memberUpdate),
    MemberPromote: adminOnly(deps, memberPromote),
  };
}
