// The membership record under the data dir (Tern's stand-in for the members etcd keeps
// in its backend): read at start, rewritten whenever the membership changes.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Membership, type MembershipStore, type SavedMembership } from '../../core/membership/members.js';

/** Saves to `file`: write then rename, so a crash leaves the old record or the new one, never half of one. */
export function membershipFile(file: string): MembershipStore {
  return {
    save: (saved) => {
      writeFileSync(`${file}.tmp`, JSON.stringify(saved));
      renameSync(`${file}.tmp`, file);
    },
  };
}

/** The saved record, or null if there is none. */
export function loadMembership(file: string): Membership | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  return Membership.fromSaved(JSON.parse(text) as SavedMembership, membershipFile(file));
}
