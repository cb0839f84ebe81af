// Who is in the cluster when a member starts, as etcd decides it:
//   a saved record under the data dir   → that (the flags' cluster is ignored);
//   --initial-cluster-state new          → the members --initial-cluster names, ids
//                                          computed from their peer URLs and the token;
//   --initial-cluster-state existing     → asked of the peers --initial-cluster names
//                                          (the cluster was changed by MemberAdd, and
//                                          this member finds itself by its peer URLs).

import type { Flags } from '../config/flags.js';
import { clusterId, memberId } from '../config/ids.js';
import { peerDialTarget } from '../config/urls.js';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { PeerClients } from './client.js';
import { Membership, type MemberRecord } from '../../core/membership/members.js';
import { loadMembership, membershipFile } from './membershipFile.js';

export type Bootstrap = { readonly ok: true; readonly membership: Membership } | { readonly ok: false; readonly error: string };

export async function bootstrapMembership(flags: Flags, file: string, credentials?: ChannelCredentials): Promise<Bootstrap> {
  const saved = loadMembership(file);
  if (saved !== null) return { ok: true, membership: saved };
  const membership = flags.initialClusterState === 'new' ? fromFlags(flags, file) : await fromPeers(flags, file, credentials);
  if (membership === null) {
    return { ok: false, error: 'cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs' };
  }
  if (membership.get(membership.selfId) === undefined) {
    return { ok: false, error: `error validating peerURLs: member with peer URLs ${flags.initialAdvertisePeerUrls.join(',')} not found in the existing cluster` };
  }
  membership.save();
  return { ok: true, membership };
}

function fromFlags(flags: Flags, file: string): Membership {
  const members: MemberRecord[] = flags.initialCluster.map((m) => ({
    id: memberId(m.peerUrls, flags.initialClusterToken), name: m.name, peerUrls: m.peerUrls, clientUrls: [], isLearner: false,
  }));
  const self = memberId(flags.initialAdvertisePeerUrls, flags.initialClusterToken);
  return new Membership(clusterId(members.map((m) => m.id)), self, members, membershipFile(file));
}

async function fromPeers(flags: Flags, file: string, credentials: ChannelCredentials | undefined): Promise<Membership | null> {
  const mine = [...flags.initialAdvertisePeerUrls].sort().join(',');
  const clients = new PeerClients(credentials);
  const stranger: MemberRecord = { id: 0n, name: flags.name, peerUrls: flags.initialAdvertisePeerUrls, clientUrls: [], isLearner: false };
  try {
    for (const peer of flags.initialCluster) {
      if (peer.name === flags.name) continue;
      for (const url of peer.peerUrls) {
        const address = peerDialTarget(url);
        if (address === null) continue;
        const view = await clients.members(address, stranger, 2000).catch(() => null);
        if (view === null) continue;
        const self = view.members.find((m) => [...m.peerUrls].sort().join(',') === mine);
        return new Membership(view.clusterId, self?.id ?? 0n, view.members, membershipFile(file));
      }
    }
    return null;
  } finally {
    clients.close();
  }
}
