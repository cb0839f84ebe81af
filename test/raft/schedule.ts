// Random schedules over a harness Network, for the fast-check properties: the
// network delivers, drops, duplicates and reorders messages, partitions and heals;
// members tick, crash and restart from their durable state, propose, read and
// transfer leadership.
import fc from 'fast-check';
import type { NodeId } from '../../core/raft/types.js';
import type { Network } from './harness.js';

export type Command =
  | { kind: 'tick'; node: number; times: number }
  | { kind: 'tickAll'; times: number }
  | { kind: 'round' }
  | { kind: 'ready'; node: number }
  | { kind: 'deliver'; pick: number }
  | { kind: 'deliverAll' }
  | { kind: 'drop'; pick: number }
  | { kind: 'duplicate'; pick: number }
  | { kind: 'propose'; node: number }
  | { kind: 'partition'; mask: number }
  | { kind: 'heal' }
  | { kind: 'restart'; node: number }
  | { kind: 'transfer'; node: number; to: number }
  | { kind: 'read'; node: number };

export const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), node: fc.nat(), times: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('tickAll' as const), times: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 14, arbitrary: fc.record({ kind: fc.constant('round' as const) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('ready' as const), node: fc.nat() }) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deliverAll' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('propose' as const), node: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('partition' as const), mask: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('heal' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), node: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('transfer' as const), node: fc.nat(), to: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('read' as const), node: fc.nat() }) },
);

export const scenario = fc.record({
  size: fc.integer({ min: 3, max: 7 }),
  seed: fc.nat(),
  preVote: fc.boolean(),
  /** 1 byte: one entry per MsgApp, so old-term entries are acknowledged on their own (Figure 8). */
  maxSizePerMsgBytes: fc.constantFrom(1, 1 << 20),
  commands: fc.array(command, { minLength: 100, maxLength: 300, size: 'max' }),
});

export function ids(size: number): NodeId[] {
  return Array.from({ length: size }, (_, i) => i + 1);
}

/** Runs one command; returns nothing, mutates the network. */
export function run(net: Network, c: Command, members: NodeId[], counter: { n: number }): void {
  const at = (k: number): NodeId => members[k % members.length] ?? 1;
  switch (c.kind) {
    case 'tick':
      for (let i = 0; i < c.times; i++) net.get(at(c.node)).node.tick();
      return;
    case 'tickAll':
      net.tickAll(c.times);
      return;
    case 'round':
      // Every member handles its Readys, then everything in flight is delivered once.
      for (const id of members) net.processReady(id);
      net.deliver();
      return;
    case 'ready':
      net.processReady(at(c.node));
      return;
    case 'deliver': {
      if (net.inFlight.length === 0) return;
      const m = net.inFlight[c.pick % net.inFlight.length];
      net.deliver((x) => x === m); // any message, in any order: reordering
      return;
    }
    case 'deliverAll':
      net.deliver();
      return;
    case 'drop':
      if (net.inFlight.length > 0) net.inFlight.splice(c.pick % net.inFlight.length, 1);
      return;
    case 'duplicate': {
      const m = net.inFlight[c.pick % Math.max(1, net.inFlight.length)];
      if (m !== undefined) net.inFlight.push(m);
      return;
    }
    case 'propose':
      net.propose(at(c.node), `v${counter.n++}`);
      return;
    case 'partition': {
      const side = members.filter((_, i) => ((c.mask >> i) & 1) === 1);
      const rest = members.filter((id) => !side.includes(id));
      if (side.length > 0 && rest.length > 0) net.partition(side, rest);
      return;
    }
    case 'heal':
      net.heal();
      return;
    case 'restart':
      net.restart(at(c.node));
      return;
    case 'transfer':
      net.get(at(c.node)).node.transferLeader(at(c.to));
      return;
    case 'read':
      net.get(at(c.node)).node.readIndex(`r${counter.n++}`);
      return;
  }
}

