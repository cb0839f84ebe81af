// A test-only switch for real members: `TERN_TEST_PLANTED_BUGS=name,…` turns on planted
// bugs of etcd's regression classes (core/raft/plantedBugs.ts) in a member started from
// the command line, so that `npm run jepsen`'s own test can show that the tool reports a
// member that acknowledges before its write is durable. An environment variable, not a
// flag: no operator reaches it from etcd's flags, config file or ETCD_* variables, and
// the member says loudly at start that it runs with a bug.

import type { PlantedBugs } from '../../core/raft/plantedBugs.js';

export const TEST_BUGS_VARIABLE = 'TERN_TEST_PLANTED_BUGS';

const REAL_MEMBER_BUGS = [
  'ackBeforeDurable', 'watchBackInTime', 'futureWatchOldEvents', 'progressNotifyAhead', 'slowWatcherDropsEvents',
  'compactDropsDeleteEvent', 'reuseReadIndex', 'leaseTtlResetLost', 'watchSkipsHundredthRevision',
] as const satisfies readonly (keyof PlantedBugs)[];

/** The bugs the variable names (null when unset or empty), or what is wrong with it. */
export function testBugsFrom(value: string | undefined): { bugs: PlantedBugs | null } | { error: string } {
  const names = (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) return { bugs: null };
  const bugs: Partial<Record<keyof PlantedBugs, boolean>> = {};
  for (const name of names) {
    const known = REAL_MEMBER_BUGS.find((b) => b === name);
    if (known === undefined) return { error: `${TEST_BUGS_VARIABLE}: unknown planted bug ${JSON.stringify(name)} (one of ${REAL_MEMBER_BUGS.join(', ')})` };
    bugs[known] = true;
  }
  return { bugs };
}
