// The shared node driver over trivial synchronous ports: a single member elects
// itself, persists before it acknowledges, applies, snapshots and recovers.
import test from 'ava';
import { NodeDriver, type StateMachine } from '../../core/node/driver.js';
import type { Entry, Message } from '../../core/raft/types.js';
import { MemoryLogStore } from '../../core/node/memoryLogStore.js';
import { TestRandom } from '../raft/harness.js';

class ListMachine implements StateMachine {
  items: string[] = [];
  apply(entry: Entry): void {
    this.items.push(new TextDecoder().decode(entry.data));
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.items));
  }
  restore(data: Uint8Array): void {
    this.items = JSON.parse(new TextDecoder().decode(data)) as string[];
  }
}

function startSingle(disk: MemoryLogStore, machine: ListMachine, sent: Message[]): NodeDriver {
  const driver = NodeDriver.start(
    { id: 1, initialVoters: [1], snapshotEveryEntries: 3, catchUpEntries: 0 },
    { logStore: disk, transport: { send: (m) => sent.push(m) }, random: new TestRandom(7), stateMachine: machine },
  );
  if ('kind' in driver) throw new Error(driver.detail);
  return driver;
}

test('a single member commits only what is durable, snapshots, and recovers', (t) => {
  const disk = new MemoryLogStore('manual');
  const machine = new ListMachine();
  const driver = startSingle(disk, machine, []);
  for (let i = 0; i < 30 && driver.status().role !== 'leader'; i++) {
    driver.tick();
    disk.flush();
  }
  t.is(driver.status().role, 'leader');
  for (const item of ['a', 'b', 'c', 'd']) t.true(driver.propose(new TextEncoder().encode(item)).ok);
  // Nothing is applied before the disk says the entries are durable.
  t.deepEqual(machine.items, []);
  disk.flush();
  disk.flush();
  t.deepEqual(machine.items, ['a', 'b', 'c', 'd']);
  t.not(disk.snapshot, null, 'a snapshot was taken after three entries');

  // Restart from the disk: the state machine is rebuilt from snapshot + log.
  const machine2 = new ListMachine();
  const restarted = startSingle(disk, machine2, []);
  disk.flush();
  t.deepEqual(machine2.items, ['a', 'b', 'c', 'd']);
  t.is(restarted.status().hardState.term, driver.status().hardState.term);
});
