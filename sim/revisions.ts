// Tern's revisions → the checker model's (see kvWorkload.ts: a fresh etcd store is at
// revision 1, the model's at 0). Shared by the watch clients and the watch ground truth.

import { REVISION_OFFSET } from './kvWorkload.js';

/** Tern's revision r as the model's; 0 and below (meaning "latest") unchanged. */
export function modelRevision(revision: number): number {
  return revision > 0 ? revision - REVISION_OFFSET : revision;
}

/** The model's revision r as Tern's. */
export function ternRevision(revision: number): number {
  return revision + REVISION_OFFSET;
}
