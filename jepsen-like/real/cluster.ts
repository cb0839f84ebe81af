// A cluster of real member processes on loopback, started by the tool: Tern from this
// checkout or an etcd binary, each with its own data dir and ports, every peer link
// through the proxies (proxy.ts). Every process is tracked by pid so that a run, however
// it ends, leaves none behind.

import { invariant } from '../../core/util/invariant.js';
import { EtcdClient, statusOf } from './client.js';
import { TEST_BUGS_VARIABLE } from '../../net/member/testBugs.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './ports.js';
import { Cuts, PeerProxy, type ProxyStats } from './proxy.js';

export type Target = 'tern' | 'etcd';

/** build/jepsen-like/real/ → the package's `tern` bin (what an operator runs). */
const TERN_BIN = fileURLToPath(new URL('../../../net/bin/tern.mjs', import.meta.url));
const READY = 'ready to serve client requests';
/** A member that is not ready by then is logged and left to come up on its own. */
const READY_TIMEOUT_MS = 60_000;

export interface Member {
  readonly name: string;
  readonly clientPort: number;
  /** Where the member listens for peers. */
  readonly peerPort: number;
  /** Its proxy: the peer URL it advertises. */
  readonly proxyPort: number;
  readonly dataDir: string;
  readonly logFile: string;
  child: ChildProcess | null;
  paused: boolean;
  /**
   * Set once the member was removed and added back (the member nemesis): the
   * `--initial-cluster` it joined with, `--initial-cluster-state existing`; null: it
   * bootstrapped the cluster.
   */
  joinedWith: string | null;
  /** How many times it was removed (its old data dirs are moved aside under these numbers). */
  removals: number;
  /** A member of an external cluster: its client endpoint (host:port). */
  readonly endpoint?: string;
}

export interface ClusterOptions {
  readonly target: Target;
  readonly nodes: number;
  readonly dir: string;
  /** The etcd binary (target etcd). */
  readonly etcdBin?: string;
  /** Test-only: planted bugs Tern's members run with (net/member/testBugs.ts). */
  readonly plantedBugs?: readonly string[];
  /**
   * A cluster the tool did not start (`--endpoints`, host:port each): nothing is
   * launched, killed, paused or cut; only client-side faults reach it.
   */
  readonly external?: readonly string[];
  readonly log: (line: string) => void;
}

/** The election timeout both targets run with (etcd's default; the tool sets no other). */
export const ELECTION_TIMEOUT_MS = 1000;

export class RealCluster {
  readonly cuts = new Cuts();
  private readonly proxies: PeerProxy[] = [];
  private readonly logs = new Map<string, WriteStream>();
  private stopped = false;

  private constructor(readonly members: readonly Member[], private readonly options: ClusterOptions) {}

  static async create(options: ClusterOptions): Promise<RealCluster> {
    if (options.external !== undefined) return RealCluster.external(options, options.external);
    if (!(options.nodes >= 1 && options.nodes <= 7)) throw new RangeError(`nodes must be 1..7, got ${options.nodes}`);
    const ports = await freePorts(options.nodes * 3);
    const members: Member[] = [];
    for (let i = 0; i < options.nodes; i++) {
      const name = `n${i + 1}`;
      members.push({
        name, clientPort: ports[3 * i] ?? 0, peerPort: ports[3 * i + 1] ?? 0, proxyPort: ports[3 * i + 2] ?? 0,
        dataDir: path.join(options.dir, 'data', name), logFile: path.join(options.dir, 'logs', `${name}.log`), child: null, paused: false, joinedWith: null, removals: 0,
      });
    }
    mkdirSync(path.join(options.dir, 'logs'), { recursive: true });
    return new RealCluster(members, options);
  }

  private static external(options: ClusterOptions, endpoints: readonly string[]): RealCluster {
    if (endpoints.length === 0) throw new RangeError('an external cluster needs at least one endpoint');
    const members = endpoints.map((endpoint, i): Member => ({
      name: `e${i + 1}`, clientPort: 0, peerPort: 0, proxyPort: 0, dataDir: '', logFile: '', child: null, paused: false, joinedWith: null, removals: 0, endpoint,
    }));
    return new RealCluster(members, options);
  }

  /** Whether the tool started these members (else it must not signal or cut them). */
  get ownsMembers(): boolean {
    return this.options.external === undefined;
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.endpoint ?? `127.0.0.1:${m.clientPort}`);
  }

  /** Running members' pids by name (the proxies' dialer lookup, the cleanup). */
  pids(): Map<number, string> {
    const pids = new Map<number, string>();
    for (const m of this.members) if (m.child?.pid !== undefined && m.child.exitCode === null && m.child.signalCode === null) pids.set(m.child.pid, m.name);
    return pids;
  }

  async start(): Promise<void> {
    if (!this.ownsMembers) return this.checkExternal();
    for (const m of this.members) {
      const proxy = new PeerProxy({ to: m.name, listenPort: m.proxyPort, targetPort: m.peerPort, cuts: this.cuts, pids: () => this.pids() });
      this.proxies.push(proxy);
      await proxy.listen();
    }
    await Promise.all(this.members.map((m) => this.launch(m)));
    // A member that could not start (a missing binary, a port taken) makes the run meaningless.
    const dead = this.members.filter((_, i) => !this.isUp(i)).map((m) => `${m.name} (${m.logFile})`);
    if (dead.length > 0) throw new Error(`members did not start: ${dead.join(', ')}`);
  }

  /**
   * An external cluster must answer on every endpoint and be empty: the checker's model
   * starts from an empty store at revision 1, and the workloads write their own keys.
   */
  private async checkExternal(): Promise<void> {
    for (const endpoint of this.endpoints) {
      const client = new EtcdClient(endpoint, 5000);
      try {
        const status = await statusOf(client, 5000);
        if (status === null) throw new Error(`--endpoints: ${endpoint} does not answer Maintenance.Status`);
        if (status.revision !== 1) {
          throw new Error(`--endpoints: ${endpoint} is at revision ${status.revision}; the tool needs an empty cluster (revision 1): its checker models the store from empty, and its workloads write keys k0..k4, lease/, lock/`);
        }
      } finally {
        client.close();
      }
    }
  }

  /** The peer URL member `index` advertises: its proxy's. */
  peerUrl(index: number): string {
    return `http://127.0.0.1:${this.memberAt(index).proxyPort}`;
  }

  private argsFor(m: Member): string[] {
    const initialCluster = m.joinedWith ?? this.members.map((x) => `${x.name}=http://127.0.0.1:${x.proxyPort}`).join(',');
    return [
      '--name', m.name, '--data-dir', m.dataDir,
      '--listen-client-urls', `http://127.0.0.1:${m.clientPort}`, '--advertise-client-urls', `http://127.0.0.1:${m.clientPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${m.peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${m.proxyPort}`,
      '--initial-cluster-token', 'jepsen-like', '--initial-cluster', initialCluster, '--initial-cluster-state', m.joinedWith === null ? 'new' : 'existing',
    ];
  }

  /** Starts (or restarts, on the same data dir and flags) one member; resolves once it is ready or has had its time. */
  private launch(m: Member): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const args = this.argsFor(m);
    const [command, argv] = this.options.target === 'etcd' ? [this.options.etcdBin ?? 'etcd', args] : [process.execPath, [TERN_BIN, ...args]];
    // Its own process group: a Ctrl-C at the terminal reaches the tool only, which then
    // stops the run and kills the members by pid (else they would exit on the SIGINT by
    // themselves, mid-run, and look like a fault).
    const bugs = this.options.plantedBugs ?? [];
    const env = bugs.length === 0 ? process.env : { ...process.env, [TEST_BUGS_VARIABLE]: bugs.join(',') };
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
    m.child = child;
    m.paused = false;
    const out = this.logOf(m);
    out.write(`--- ${new Date().toISOString()} started pid ${String(child.pid)}: ${command} ${argv.join(' ')}\n`);
    return new Promise((resolve) => {
      let seen = '';
      let ready = false;
      const timer = setTimeout(() => { this.options.log(`${m.name} not ready after ${READY_TIMEOUT_MS} ms`); resolve(); }, READY_TIMEOUT_MS);
      const onData = (chunk: Buffer): void => {
        out.write(chunk);
        if (ready) return;
        seen = (seen + chunk.toString()).slice(-4096);
        if (seen.includes(READY)) { ready = true; clearTimeout(timer); resolve(); }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('error', (error) => { out.write(`--- spawn error: ${error.message}\n`); clearTimeout(timer); resolve(); });
      child.once('exit', (code, signal) => {
        out.write(`--- ${new Date().toISOString()} exited ${signal ?? String(code)}\n`);
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private logOf(m: Member): WriteStream {
    let stream = this.logs.get(m.name);
    if (stream === undefined) {
      stream = createWriteStream(m.logFile, { flags: 'a' });
      this.logs.set(m.name, stream);
    }
    return stream;
  }

  /** Peer connections the proxies saw, summed. */
  proxyStats(): ProxyStats {
    const sum: ProxyStats = { identified: 0, unidentified: 0, cut: 0 };
    for (const p of this.proxies) {
      sum.identified += p.stats.identified;
      sum.unidentified += p.stats.unidentified;
      sum.cut += p.stats.cut;
    }
    return sum;
  }

  /**
   * Whether member `index` can lead right now: up, not paused, and able to reach a
   * majority of all members (itself included) over links not cut.
   */
  canLead(index: number): boolean {
    const m = this.members[index];
    if (m === undefined || !this.isUp(index) || m.paused) return false;
    const reachable = this.members.filter((o) => o === m || !this.cuts.isCut(m.name, o.name)).length;
    return reachable > this.members.length / 2;
  }

  isUp(index: number): boolean {
    if (!this.ownsMembers) return index >= 0 && index < this.members.length;
    const child = this.members[index]?.child;
    return child !== undefined && child !== null && child.exitCode === null && child.signalCode === null;
  }

  /** SIGKILL: no shutdown, as a power loss of the process. */
  async kill(index: number): Promise<void> {
    invariant(this.ownsMembers, 'no process faults on an external cluster');
    const m = this.memberAt(index);
    const child = m.child;
    if (child === null || !this.isUp(index)) return;
    const exited = new Promise((done) => { child.once('exit', done); });
    child.kill('SIGKILL');
    await exited;
    m.child = null;
    m.paused = false;
  }

  restart(index: number): Promise<void> {
    return this.launch(this.memberAt(index));
  }

  /**
   * A removed member's data dir (it is stopped) goes: a removed member cannot come back
   * on its old data. Moved aside, not deleted: it is evidence as the others' are.
   */
  wipe(index: number): string {
    invariant(this.ownsMembers && !this.isUp(index), 'only a stopped member of a cluster the tool started is wiped');
    const m = this.memberAt(index);
    m.removals += 1;
    const aside = `${m.dataDir}.removed-${m.removals}`;
    if (existsSync(m.dataDir)) renameSync(m.dataDir, aside);
    return aside;
  }

  /** A removed, wiped member joins again as a new member: `--initial-cluster-state existing` and that cluster. */
  rejoin(index: number, initialCluster: string): Promise<void> {
    const m = this.memberAt(index);
    m.joinedWith = initialCluster;
    return this.launch(m);
  }

  pause(index: number): void {
    invariant(this.ownsMembers, 'no process faults on an external cluster');
    const m = this.memberAt(index);
    if (m.child !== null && this.isUp(index)) { m.child.kill('SIGSTOP'); m.paused = true; }
  }

  resume(index: number): void {
    const m = this.memberAt(index);
    if (m.child !== null && this.isUp(index)) m.child.kill('SIGCONT');
    m.paused = false;
  }

  private memberAt(index: number): Member {
    const m = this.members[index];
    if (m === undefined) throw new RangeError(`no member ${index}`);
    return m;
  }

  /** Kills every member by pid at once: for signal handlers and errors (no await needed). */
  killAllNow(): void {
    this.stopped = true;
    for (const pid of this.pids().keys()) {
      try {
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** Stops every member (SIGKILL: the run is over, its data dirs are evidence) and the proxies. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (!this.ownsMembers) return;
    await Promise.all(this.members.map((_, i) => { this.resume(i); return this.kill(i); }));
    this.cuts.set([]);
    await Promise.all(this.proxies.map((p) => p.close()));
    await Promise.all([...this.logs.values()].map((s) => new Promise((done) => { s.end(done); })));
  }
}
