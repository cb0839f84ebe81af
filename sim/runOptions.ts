// What one simulation run is asked to do (runSimulation's input), apart from the run
// itself so that the modules the run is built from can read it without importing run.ts.

import type { PlantedBugs } from '../core/raft/rawNode.js';
import type { KvReporting } from './kvVerdict.js';
import type { TraceSink } from './scheduler.js';

export type FaultMode = 'none' | 'swarm';
/** `none`: Raft proposals on bare drivers; `kv`: EtcdServer members and KV clients too. */
export type WorkloadMode = 'none' | 'kv';

export const DEFAULT_LIVENESS_TIMEOUT_MS = 10_000;

/** The KV clients' traffic: `kubernetes` is kube-apiserver's (kubernetesTraffic.ts). */
export type TrafficProfile = 'default' | 'kubernetes';
export const TRAFFIC_PROFILES: readonly TrafficProfile[] = ['default', 'kubernetes'];

export interface RunOptions extends KvReporting {
  readonly seed: number;
  readonly nodes: number;
  readonly timeMs: number;
  readonly faults: FaultMode;
  readonly bugs?: PlantedBugs;
  /** Default DEFAULT_LIVENESS_TIMEOUT_MS. */
  readonly livenessTimeoutMs?: number;
  readonly trace?: TraceSink;
  /** Rule checks (persistBeforeSend, commitRule) on (default) or off; see safetyChecker.ts. */
  readonly ruleChecks?: boolean;
  /** Default `none`. */
  readonly workload?: WorkloadMode;
  /** With `kv`: the auth workload (authWorkload.ts) instead of the KV and watch clients. Default off. */
  readonly auth?: boolean;
  /**
   * With `kv`: membership changes under the faults (membershipNemesis.ts). Absent: drawn
   * from the seed in a swarm run (world.ts membershipOn); true or false: as asked.
   */
  readonly membership?: boolean;
  /** With `kv`: the KV and watch clients' traffic. Default `default`. */
  readonly profile?: TrafficProfile;
  /**
   * Run on after the first violation (default: halt there, later ones are usually its
   * consequences). The end-of-run checks (linearizability, watches) then judge the whole
   * history: a lost write that the Raft checks see at once is also seen by a client.
   */
  readonly keepGoing?: boolean;
}
