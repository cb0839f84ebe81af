// Iteration order must never depend on accidents (DESIGN.md §3): sim/ iterates Maps
// (insertion order, which the seed fixes) and arrays, never the keys of plain objects
// (numeric-like keys are reordered by the engine) and never for-in.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SIM = path.join(process.cwd(), 'sim');

test('sim/ never iterates object keys', (t) => {
  const files = readdirSync(SIM).filter((name) => name.endsWith('.ts'));
  t.true(files.length > 5);
  for (const name of files) {
    const source = readFileSync(path.join(SIM, name), 'utf8');
    t.false(/\bfor\s*\([^)]*\bin\b/.test(source), `${name}: for-in`);
    t.false(/Object\.(keys|values|entries)\(/.test(source), `${name}: Object.keys/values/entries`);
    t.false(/Math\.random|Date\.now|new Date|setTimeout|setInterval|setImmediate/.test(source), `${name}: ambient time or randomness`);
  }
});
