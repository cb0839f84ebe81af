// Counter cells: counts kept as plain numbers reach /metrics at every scrape, whole.

import test from 'ava';
import { Registry } from 'prom-client';
import { CellCounter } from '../../../net/metrics/counterCells.js';

test('cells add up into the counter at each read, and a cell never read twice', async (t) => {
  const registry = new Registry();
  const counter = new CellCounter({ name: 'x_total', help: 'x', labelNames: ['m'], registers: [registry] });
  const put = counter.cell({ m: 'Put' });
  const range = counter.cell({ m: 'Range' });
  counter.cell({ m: 'Idle' }); // asked for, never counted: no series
  for (let i = 0; i < 5; i++) put.inc();
  range.inc();
  t.regex(await registry.metrics(), /x_total\{m="Put"\} 5\n/);
  t.regex(await registry.metrics(), /x_total\{m="Range"\} 1\n/); // a second read adds nothing twice
  put.inc();
  const text = await registry.metrics();
  t.regex(text, /x_total\{m="Put"\} 6\n/);
  t.regex(text, /x_total\{m="Range"\} 1\n/);
  t.notRegex(text, /Idle/);
  const json = await counter.counter.get();
  t.deepEqual(json.values.map((v) => [v.labels['m'], v.value]).sort(), [['Put', 6], ['Range', 1]]);
});
