// A datadriven runner for Raft scenarios, in the style of etcd-raft's interaction tests
// (testdata/*.txt run through rafttest.InteractionEnv). A scenario file is a script of
// blocks:
//
//   # a comment
//   command arg key=value key=(1,2,3)
//   ----
//   the expected output, up to the next blank line
//
// Each command drives RawNodes over MemoryStorage and an in-memory network the script
// controls, and prints what happened: every Ready handled, every message delivered or
// dropped, every change of role, term or leader. The runner compares the printed output
// with the expected output; with REWRITE=1 it writes the actual output back into the
// file instead (review the diff before committing it: the files are the spec).
//
// The command language is documented in docs/scenarios.md.

import { decodeConfChange } from '../../core/raft/confchange.js';
import { MemoryStorage } from '../../core/raft/memoryStorage.js';
import { RawNode, type PlantedBugs, type Ready } from '../../core/raft/rawNode.js';
import type { ConfChange, Entry, HardState, Message, MessageType, NodeId } from '../../core/raft/types.js';
import { TestRandom } from './harness.js';

// ------------------------------------------------------------------ file format

export interface Block {
  /** 1-based line number of the command. */
  readonly line: number;
  readonly command: string;
  readonly expected: string;
}

type Item = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'block'; readonly block: Block };

/** Splits a scenario file into text (comments, blank lines) and command blocks. */
export function parseScenario(source: string): Item[] {
  const lines = source.split('\n');
  const items: Item[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || line.startsWith('#')) {
      items.push({ kind: 'text', text: line });
      i++;
      continue;
    }
    if (lines[i + 1] !== '----') throw new Error(`line ${i + 2}: expected ---- after the command "${line}"`);
    const expected: string[] = [];
    let j = i + 2;
    while (j < lines.length && (lines[j] ?? '') !== '') {
      expected.push(lines[j] ?? '');
      j++;
    }
    items.push({ kind: 'block', block: { line: i + 1, command: line, expected: expected.join('\n') } });
    i = j;
  }
  return items;
}

/** The file with every block's expected output replaced by `actual(block)`. */
export function rewriteScenario(items: readonly Item[], actual: (b: Block) => string): string {
  const out: string[] = [];
  for (const item of items) {
    if (item.kind === 'text') out.push(item.text);
    else out.push(item.block.command, '----', actual(item.block));
  }
  return out.join('\n');
}

// ------------------------------------------------------------------ command arguments

interface Args {
  readonly name: string;
  /** Positional arguments, in order ("|" is one too). */
  readonly positional: readonly string[];
  readonly keys: ReadonlyMap<string, string>;
}

function parseCommand(line: string): Args {
  const [name = '', ...rest] = line.trim().split(/\s+/);
  const positional: string[] = [];
  const keys = new Map<string, string>();
  for (const token of rest) {
    const eq = token.indexOf('=');
    if (eq > 0) keys.set(token.slice(0, eq), token.slice(eq + 1));
    else positional.push(token);
  }
  return { name, positional, keys };
}

function int(s: string | undefined, what: string): number {
  const n = Number(s);
  if (s === undefined || !Number.isInteger(n)) throw new Error(`${what}: expected an integer, got ${String(s)}`);
  return n;
}

/** "(1,2,3)" or "3" → [1, 2, 3] or [3]. */
function intList(s: string | undefined): number[] {
  if (s === undefined) return [];
  const inner = s.replace(/^\(/, '').replace(/\)$/, '').trim();
  if (inner === '') return [];
  return inner.split(',').map((x) => int(x.trim(), 'list element'));
}

/** bugs=(a,b): planted bugs (core/raft/plantedBugs.ts) to switch on, for demonstrations. */
function plantedBugs(s: string | undefined): PlantedBugs {
  if (s === undefined) return {};
  const names = s.replace(/^\(/, '').replace(/\)$/, '').split(',').map((x) => x.trim()).filter((x) => x !== '');
  const bugs: Record<string, boolean> = {};
  for (const name of names) {
    if (!BUG_NAMES.has(name)) throw new Error(`unknown planted bug ${name}`);
    bugs[name] = true;
  }
  return bugs;
}

function bool(s: string | undefined, fallback: boolean): boolean {
  if (s === undefined) return fallback;
  if (s !== 'true' && s !== 'false') throw new Error(`expected true or false, got ${s}`);
  return s === 'true';
}

// ------------------------------------------------------------------ printing

const decoder = new TextDecoder();

export function formatEntry(e: Entry): string {
  if (e.type === 'confChange') {
    const c = decodeConfChange(e.data);
    return `${e.term}/${e.index} ${c === null ? 'confChange(?)' : `${c.type}(${c.nodeId})`}`;
  }
  return e.data.byteLength === 0 ? `${e.term}/${e.index}` : `${e.term}/${e.index} "${decoder.decode(e.data)}"`;
}

function entries(es: readonly Entry[]): string {
  return `[${es.map(formatEntry).join(', ')}]`;
}

function ids(xs: readonly NodeId[]): string {
  return `(${xs.join(',')})`;
}

export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} Term:${m.term}`;
  const ctx = m.context === '' ? '' : ` Context:${m.context}`;
  switch (m.type) {
    case 'MsgApp':
      return `${head} Log:${m.logTerm}/${m.index} Commit:${m.commit}${m.entries.length > 0 ? ` Entries:${entries(m.entries)}` : ''}`;
    case 'MsgAppResp':
      return m.reject
        ? `${head} Index:${m.index} Rejected (Hint: ${m.logTerm}/${m.rejectHint})`
        : `${head} Index:${m.index}`;
    case 'MsgVote':
    case 'MsgPreVote':
      return `${head} Log:${m.logTerm}/${m.index}${ctx}`;
    case 'MsgVoteResp':
    case 'MsgPreVoteResp':
      return `${head}${m.reject ? ' Rejected' : ''}`;
    case 'MsgHeartbeat':
      return `${head} Commit:${m.commit}${ctx}`;
    case 'MsgHeartbeatResp':
      return `${head}${ctx}`;
    case 'MsgSnap': {
      const md = m.snapshot?.metadata;
      return md === undefined ? `${head} Snapshot:none`
        : `${head} Snapshot: Index:${md.index} Term:${md.term} Voters:${ids(md.confState.voters)} Learners:${ids(md.confState.learners)}`;
    }
    case 'MsgProp':
      return `${head} Entries:${entries(m.entries)}`;
    case 'MsgReadIndex':
      return `${head}${ctx}`;
    case 'MsgReadIndexResp':
      return `${head} Index:${m.index}${ctx}`;
    case 'MsgTransferLeader':
    case 'MsgTimeoutNow':
      return head;
  }
}

/**
 * Identical lines (a leader's heartbeats over several ticks) are printed once, at their
 * first position, with a count: "1->2 MsgHeartbeat Term:1 Commit:1 (x10)".
 */
function collapse(lines: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts].map(([l, c]) => (c > 1 ? `${l} (x${c})` : l));
}

function formatHardState(h: HardState): string {
  return `HardState Term:${h.term} Vote:${h.vote} Commit:${h.commit}`;
}

// ------------------------------------------------------------------ the environment

interface EnvNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  node: RawNode;
  readonly config: NodeConfig;
  /** What was last printed about (role, term, lead), to print only changes. */
  seen: string;
}

interface NodeConfig {
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly electionTicks: number;
  readonly maxSizePerMsgBytes: number;
  readonly maxInflightMsgs: number;
  readonly bugs: PlantedBugs;
}

const BUG_NAMES: ReadonlySet<string> = new Set<keyof PlantedBugs>(['voteWithoutPersist', 'commitOldTermByCounting', 'appendWithoutTruncate']);

const MSG_TYPES: ReadonlySet<string> = new Set<MessageType>([
  'MsgApp', 'MsgAppResp', 'MsgVote', 'MsgVoteResp', 'MsgPreVote', 'MsgPreVoteResp', 'MsgSnap', 'MsgHeartbeat',
  'MsgHeartbeatResp', 'MsgProp', 'MsgReadIndex', 'MsgReadIndexResp', 'MsgTransferLeader', 'MsgTimeoutNow',
]);

/** The state one script drives. One Env per scenario file. */
export class Env {
  private readonly nodes = new Map<NodeId, EnvNode>();
  private inFlight: Message[] = [];
  private readonly cut = new Set<string>();
  private readonly random = new TestRandom(1);
  private out: string[] = [];

  /** Runs one command line and returns its printed output ("ok" if it printed nothing). */
  handle(line: string): string {
    this.out = [];
    try {
      this.dispatch(parseCommand(line));
    } catch (e: unknown) {
      this.print(`error: ${e instanceof Error ? e.message : String(e)}`);
    }
    return this.out.length === 0 ? 'ok' : this.out.join('\n');
  }

  private print(line: string): void {
    this.out.push(line);
  }

  private get(id: NodeId): EnvNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  private targets(a: Args): NodeId[] {
    const list = a.positional.map((p) => int(p, 'node id'));
    return list.length > 0 ? list : [...this.nodes.keys()].sort((x, y) => x - y);
  }

  private dispatch(a: Args): void {
    const p = a.positional;
    switch (a.name) {
      case 'add-nodes': this.addNodes(a); return;
      case 'campaign': this.act(int(p[0], 'campaign'), (n) => { n.node.campaign(); }); return;
      case 'propose': this.propose(int(p[0], 'propose'), p.slice(1).join(' ')); return;
      case 'propose-conf-change': this.proposeConfChange(a); return;
      case 'tick': this.tick(int(p[0], 'tick'), p[1] === undefined ? 1 : int(p[1], 'tick count')); return;
      case 'tick-heartbeat': this.tick(int(p[0], 'tick-heartbeat'), 1); return;
      case 'tick-election': this.tickElection(int(p[0], 'tick-election')); return;
      case 'process-ready': for (const id of this.targets(a)) this.processReady(id); return;
      case 'deliver-msgs': this.deliverMsgs(a); return;
      case 'stabilize': this.stabilize(a); return;
      case 'partition': this.partition(p); return;
      case 'isolate': this.isolate(int(p[0], 'isolate')); return;
      case 'cut': this.cut.add(`${int(p[0], 'cut from')}-${int(p[1], 'cut to')}`); return;
      case 'heal': this.cut.clear(); return;
      case 'transfer-leader': this.refusable(int(p[0], 'transfer-leader'), (n) => n.node.transferLeader(int(p[1], 'transferee'))); return;
      case 'read-index': this.refusable(int(p[0], 'read-index'), (n) => n.node.readIndex(p[1] ?? '')); return;
      case 'compact': this.compact(int(p[0], 'compact'), int(p[1], 'compact index')); return;
      case 'restart': this.restart(int(p[0], 'restart')); return;
      case 'raft-log': this.raftLog(int(p[0], 'raft-log')); return;
      case 'raft-state': for (const id of this.targets(a)) this.print(this.stateLine(id)); return;
      case 'status': this.status(int(p[0], 'status')); return;
      default: throw new Error(`unknown command ${a.name}`);
    }
  }

  // ---------------------------------------------------------------- setup

  /**
   * add-nodes N [voters=(..)] [learners=(..)] [prevote=true] [checkquorum=true]
   *   [election=10] [max-size=bytes] [inflight=n] [log=(terms)] [term=t] [vote=v] [commit=c]
   *   [bugs=(commitOldTermByCounting,...)]
   * Adds N members with the next free ids. voters defaults to the ids added.
   * log=(1,1,4) preloads a durable log with entries of those terms (no data).
   */
  private addNodes(a: Args): void {
    const count = int(a.positional[0], 'add-nodes');
    const first = Math.max(0, ...this.nodes.keys()) + 1;
    const added = Array.from({ length: count }, (_, i) => first + i);
    const voters = a.keys.has('voters') ? intList(a.keys.get('voters')) : added;
    const learners = intList(a.keys.get('learners'));
    const config: NodeConfig = {
      preVote: bool(a.keys.get('prevote'), true),
      checkQuorum: bool(a.keys.get('checkquorum'), true),
      electionTicks: a.keys.has('election') ? int(a.keys.get('election'), 'election') : 10,
      maxSizePerMsgBytes: a.keys.has('max-size') ? int(a.keys.get('max-size'), 'max-size') : 1024 * 1024,
      maxInflightMsgs: a.keys.has('inflight') ? int(a.keys.get('inflight'), 'inflight') : 256,
      bugs: plantedBugs(a.keys.get('bugs')),
    };
    const logTerms = intList(a.keys.get('log'));
    for (const id of added) {
      const storage = new MemoryStorage({ voters, learners });
      storage.append(logTerms.map((term, i) => ({ term, index: i + 1, type: 'normal', data: new Uint8Array(0) })));
      storage.setHardState({
        term: a.keys.has('term') ? int(a.keys.get('term'), 'term') : 0,
        vote: a.keys.has('vote') ? int(a.keys.get('vote'), 'vote') : 0,
        commit: a.keys.has('commit') ? int(a.keys.get('commit'), 'commit') : 0,
      });
      const n: EnvNode = { id, storage, node: this.newRawNode(id, storage, config), config, seen: '' };
      this.nodes.set(id, n);
      n.seen = this.roleLine(n);
      this.print(`${this.stateLine(id)} voters=${ids(voters)} learners=${ids(learners)}`);
    }
  }

  private newRawNode(id: NodeId, storage: MemoryStorage, c: NodeConfig): RawNode {
    return new RawNode({
      id, storage, random: this.random, applied: storage.snapshot().metadata.index,
      preVote: c.preVote, checkQuorum: c.checkQuorum, electionTicks: c.electionTicks, heartbeatTicks: 1,
      maxSizePerMsgBytes: c.maxSizePerMsgBytes, maxInflightMsgs: c.maxInflightMsgs, bugs: c.bugs,
    });
  }

  private restart(id: NodeId): void {
    const n = this.get(id);
    const dropped = this.inFlight.filter((m) => m.to === id).length;
    this.inFlight = this.inFlight.filter((m) => m.to !== id);
    n.node = this.newRawNode(id, n.storage, n.config);
    this.print(`${id} restarted from storage${dropped > 0 ? ` (${dropped} messages to it lost)` : ''}: ${this.stateLine(id)}`);
    n.seen = this.roleLine(n);
  }

  // ---------------------------------------------------------------- inputs

  private act(id: NodeId, f: (n: EnvNode) => void): void {
    const n = this.get(id);
    f(n);
    this.noteChanges();
  }

  private refusable(id: NodeId, f: (n: EnvNode) => { ok: boolean; refusal?: string }): void {
    const n = this.get(id);
    const r = f(n);
    if (!r.ok) this.print(`refused: ${r.refusal ?? '?'}`);
    this.noteChanges();
  }

  private propose(id: NodeId, data: string): void {
    this.refusable(id, (n) => n.node.propose(new TextEncoder().encode(data)));
  }

  /** propose-conf-change 1 add-voter|remove-voter|add-learner 4 */
  private proposeConfChange(a: Args): void {
    const [idArg, kind, target] = a.positional;
    const types: Record<string, ConfChange['type']> = { 'add-voter': 'addVoter', 'remove-voter': 'removeVoter', 'add-learner': 'addLearner' };
    const type = kind === undefined ? undefined : types[kind];
    if (type === undefined) throw new Error(`unknown conf change ${String(kind)}`);
    this.refusable(int(idArg, 'propose-conf-change'), (n) => n.node.proposeConfChange({ type, nodeId: int(target, 'conf change node') }));
  }

  private tick(id: NodeId, count: number): void {
    for (let i = 0; i < count; i++) this.get(id).node.tick();
    this.noteChanges();
  }

  /**
   * A follower or candidate: ticks until it campaigns (or changes role), at most 2·election
   * ticks. A leader: ticks one election timeout (check-quorum runs at its end).
   */
  private tickElection(id: NodeId): void {
    const n = this.get(id);
    const r = n.node.raft;
    if (r.role === 'leader') {
      for (let i = 0; i < n.config.electionTicks; i++) n.node.tick();
    } else {
      const before = `${r.role}/${r.term}`;
      for (let i = 0; i < 2 * n.config.electionTicks && `${r.role}/${r.term}` === before; i++) n.node.tick();
    }
    this.noteChanges();
  }

  private compact(id: NodeId, index: number): void {
    const n = this.get(id);
    n.storage.createSnapshot(index, n.node.status().confState, new TextEncoder().encode(`snapshot@${index}`));
    n.storage.compact(index);
    this.raftLog(id);
  }

  // ---------------------------------------------------------------- network

  private partition(p: readonly string[]): void {
    const groups: NodeId[][] = [[]];
    for (const token of p) {
      if (token === '|') groups.push([]);
      else groups[groups.length - 1]?.push(int(token, 'partition'));
    }
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.cut.add(`${x}-${y}`);
      }
    }
  }

  private isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}-${other}`);
      this.cut.add(`${other}-${id}`);
    }
  }

  /**
   * deliver-msgs [ids...] [drop=(ids)] [type=MsgApp] [from=id]
   * Delivers the in-flight messages to the given members (all, if neither ids nor drop
   * is given) and drops those to the members in drop=. type= and from= narrow both.
   */
  private deliverMsgs(a: Args): void {
    const to = a.positional.map((x) => int(x, 'deliver-msgs'));
    const dropTo = intList(a.keys.get('drop'));
    const type = a.keys.get('type');
    if (type !== undefined && !MSG_TYPES.has(type)) throw new Error(`unknown message type ${type}`);
    const from = a.keys.has('from') ? int(a.keys.get('from'), 'from') : undefined;
    const all = to.length === 0 && dropTo.length === 0;
    const matches = (m: Message): boolean => (type === undefined || m.type === type) && (from === undefined || m.from === from);
    const deliver = this.inFlight.filter((m) => matches(m) && (all || to.includes(m.to)) && !dropTo.includes(m.to));
    const dropped = this.inFlight.filter((m) => matches(m) && dropTo.includes(m.to));
    this.inFlight = this.inFlight.filter((m) => !deliver.includes(m) && !dropped.includes(m));
    for (const m of dropped) this.print(`dropped: ${formatMessage(m)}`);
    this.deliver(deliver);
  }

  /** Steps `msgs` into their recipients, grouped by recipient, printing what happens. */
  private deliver(msgs: readonly Message[]): void {
    const recipients = [...new Set(msgs.map((m) => m.to))].sort((x, y) => x - y);
    for (const id of recipients) {
      this.print(`> ${id} receiving messages`);
      const n = this.nodes.get(id);
      const lost = msgs.filter((m) => m.to === id && (n === undefined || this.cut.has(`${m.from}-${m.to}`)));
      const why = n === undefined ? 'no such member' : 'partition';
      for (const line of collapse(lost.map(formatMessage))) this.print(`  ${line} DROPPED (${why})`);
      for (const m of msgs) {
        if (m.to !== id || n === undefined || lost.includes(m)) continue;
        this.print(`  ${formatMessage(m)}`);
        n.node.step(m);
        this.noteChanges('  ');
      }
    }
  }

  // ---------------------------------------------------------------- Ready

  /** Handles every Ready of `id` (persist synchronously, then apply), printing each. */
  private processReady(id: NodeId): boolean {
    const n = this.get(id);
    let any = false;
    for (let rounds = 0; n.node.hasReady(); rounds++) {
      if (rounds > 100) throw new Error(`node ${id} never settles`);
      any = true;
      this.print(`> ${id} handling Ready`);
      const rd = n.node.ready();
      this.printReady(rd);
      this.inFlight.push(...rd.messages);
      if (rd.snapshot !== null) n.storage.applySnapshot(rd.snapshot);
      n.storage.append(rd.entries);
      if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
      const held = n.node.persisted(rd);
      if (held.length > 0) {
        this.print('  Messages after persisting:');
        for (const line of collapse(held.map(formatMessage))) this.print(`  ${line}`);
      }
      this.inFlight.push(...held);
      for (const e of rd.committedEntries) {
        if (e.type !== 'confChange') continue;
        const change = decodeConfChange(e.data);
        if (change === null) continue;
        const conf = n.node.applyConfChange(change);
        this.print(`  applied ${formatEntry(e)}: voters=${ids(conf.voters)} learners=${ids(conf.learners)}`);
      }
      n.node.advance(rd);
      this.noteChanges('  ');
    }
    return any;
  }

  private printReady(rd: Ready): void {
    if (rd.softState !== null) this.print(`  State: ${rd.softState.role}, lead ${rd.softState.lead}`);
    if (rd.hardState !== null) this.print(`  ${formatHardState(rd.hardState)}${rd.mustSync ? '' : ' (no sync)'}`);
    if (rd.snapshot !== null) {
      const md = rd.snapshot.metadata;
      this.print(`  Snapshot Index:${md.index} Term:${md.term} Voters:${ids(md.confState.voters)} Learners:${ids(md.confState.learners)}`);
    }
    if (rd.entries.length > 0) this.print(`  Entries: ${rd.entries.map(formatEntry).join(', ')}`);
    if (rd.committedEntries.length > 0) this.print(`  CommittedEntries: ${rd.committedEntries.map(formatEntry).join(', ')}`);
    if (rd.messages.length > 0) {
      this.print('  Messages:');
      for (const line of collapse(rd.messages.map(formatMessage))) this.print(`  ${line}`);
    }
    for (const rs of rd.readStates) this.print(`  ReadState Index:${rs.index} Context:${rs.context}`);
  }

  /** stabilize [quiet]: handle Readies and deliver messages until nothing moves. */
  private stabilize(a: Args): void {
    const quiet = a.positional.includes('quiet');
    const mark = this.out.length;
    for (let round = 0; ; round++) {
      if (round > 1000) throw new Error('did not stabilize within 1000 rounds');
      let moved = false;
      for (const id of [...this.nodes.keys()].sort((x, y) => x - y)) moved = this.processReady(id) || moved;
      if (this.inFlight.length > 0) {
        const msgs = this.inFlight;
        this.inFlight = [];
        this.deliver(msgs);
        moved = true;
      }
      if (!moved) break;
    }
    if (quiet) {
      // Keep only the changes of role, term and leader.
      const kept = this.out.slice(mark).filter((l) => l.trim().startsWith('~'));
      this.out = [...this.out.slice(0, mark), ...kept.map((l) => l.trim())];
    }
  }

  // ---------------------------------------------------------------- inspection

  private roleLine(n: EnvNode): string {
    const r = n.node.raft;
    return `${r.role} at term ${r.term}${r.role === 'leader' ? '' : `, ${r.lead === 0 ? 'no leader' : `leader ${r.lead}`}`}`;
  }

  /** Prints "~ id is role at term t" for every member whose role, term or leader changed. */
  private noteChanges(indent = ''): void {
    for (const id of [...this.nodes.keys()].sort((x, y) => x - y)) {
      const n = this.get(id);
      const now = this.roleLine(n);
      if (now === n.seen) continue;
      n.seen = now;
      this.print(`${indent}~ ${id} is ${now}`);
    }
  }

  private stateLine(id: NodeId): string {
    const s = this.get(id).node.status();
    const h = s.hardState;
    const first = s.firstIndex > 1 ? ` first=${s.firstIndex}` : '';
    return `${id}: ${s.role} term=${h.term} lead=${s.lead} vote=${h.vote} commit=${h.commit} applied=${s.applied}${first} last=${s.lastIndex}`;
  }

  private raftLog(id: NodeId): void {
    const n = this.get(id);
    const s = n.node.status();
    if (s.firstIndex > 1) {
      const term = n.node.raft.log.term(s.firstIndex - 1);
      this.print(`snapshot ${term ?? '?'}/${s.firstIndex - 1}`);
    }
    const all = n.node.logEntries();
    if (all.length === 0 && s.firstIndex === 1) this.print('log is empty');
    for (const e of all) this.print(formatEntry(e));
  }

  private status(id: NodeId): void {
    const n = this.get(id);
    const s = n.node.status();
    this.print(this.stateLine(id));
    this.print(`voters=${ids(s.confState.voters)} learners=${ids(s.confState.learners)}`);
    if (s.role !== 'leader') return;
    for (const peer of [...s.confState.voters, ...s.confState.learners].sort((x, y) => x - y)) {
      const pr = n.node.raft.progressOf(peer);
      if (pr === undefined) continue;
      const flags = [
        pr.isLearner ? 'learner' : '',
        pr.state === 'snapshot' ? `pendingSnapshot=${pr.pendingSnapshot}` : '',
        pr.msgAppFlowPaused ? 'paused' : '',
        peer !== id && !pr.recentActive ? 'inactive' : '',
      ].filter((f) => f !== '');
      this.print(`  ${peer}: ${pr.state} match=${pr.match} next=${pr.next}${flags.length > 0 ? ` ${flags.join(' ')}` : ''}`);
    }
  }
}

/** Runs a whole scenario file; returns each block with its actual output. */
export function runScenario(source: string): { items: Item[]; actual: Map<Block, string> } {
  const items = parseScenario(source);
  const env = new Env();
  const actual = new Map<Block, string>();
  for (const item of items) {
    if (item.kind === 'block') actual.set(item.block, env.handle(item.block.command));
  }
  return { items, actual };
}
