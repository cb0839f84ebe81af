// Processes one suite test left behind. The suite starts every etcd under a pseudo-terminal
// in a session of its own (pkg/expect), so a member outlives a test binary that timed out
// and is in no process group of ours. Each test process gets a marker in its environment,
// which every process it starts inherits; what still carries it after the test is a stray,
// found in /proc and killed by its pid.

import { readdirSync, readFileSync } from 'node:fs';

/** One test process's marker. */
export const TEST_MARKER = 'TERN_E2E_TEST';
/** A whole run's marker (an interrupted run kills what its tests started). */
export const RUN_MARKER = 'TERN_E2E_RUN';

/** The pids of live processes whose environment holds `variable=marker`. */
export function markedProcesses(variable: string, marker: string): number[] {
  const needle = `${variable}=${marker}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(needle)) pids.push(Number(entry));
    } catch {
      // Gone already, or not ours to read: not a stray of this run.
    }
  }
  return pids;
}

/** SIGKILLs every process (but this one) carrying `variable=marker`; returns how many there were. */
export function killMarked(variable: string, marker: string): number {
  const pids = markedProcesses(variable, marker).filter((pid) => pid !== process.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // It exited between the scan and the kill.
    }
  }
  return pids.length;
}
