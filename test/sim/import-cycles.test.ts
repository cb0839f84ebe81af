// sim/ has no import cycle, type-only imports included: a cycle means two modules are
// one concept split in two (or shared types living in the wrong one), and the order
// in which Node evaluates a cycle's modules is an accident waiting to bite.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SIM = path.join(process.cwd(), 'sim');
/** `from './x.js'` in import and export statements (the simulator imports nothing dynamically). */
const LOCAL_IMPORT = /\bfrom\s+'\.\/([A-Za-z0-9_]+)\.js'/g;

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const name of readdirSync(SIM).filter((n) => n.endsWith('.ts')).sort()) {
    const source = readFileSync(path.join(SIM, name), 'utf8');
    const targets = [...source.matchAll(LOCAL_IMPORT)].map((m) => m[1] ?? '');
    graph.set(name.slice(0, -3), [...new Set(targets)]);
  }
  return graph;
}

/** The first cycle found by depth-first search, as a path that ends where it starts; or []. */
function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (node: string): string[] => {
    const open = stack.indexOf(node);
    if (open >= 0) return [...stack.slice(open), node];
    if (done.has(node)) return [];
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle.length > 0) return cycle;
    }
    stack.pop();
    done.add(node);
    return [];
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle.length > 0) return cycle;
  }
  return [];
}

test('sim/ modules import each other without a cycle', (t) => {
  const graph = importGraph();
  t.true(graph.size > 10);
  t.true([...graph.values()].some((targets) => targets.length > 3), 'the scan sees imports');
  t.deepEqual(findCycle(graph), []);
});

test('the cycle search finds a cycle when there is one', (t) => {
  const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
  t.deepEqual(findCycle(graph), ['a', 'b', 'c', 'a']);
  t.deepEqual(findCycle(new Map([['a', ['b']], ['b', []]])), []);
});
