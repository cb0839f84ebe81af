// The npm etcd3 client across a Tern restart: its watcher reconnects and re-creates
// itself from the last revision it saw + 1, so no event is lost or repeated. (Kept in
// its own file: after a reconnect the client leaves a timer that holds the worker for
// ~30 s after the test, which would otherwise delay the other etcd3 tests' file.)
import test from 'ava';
import { Etcd3 } from 'etcd3';
import { removeDataDir, startTern, tempDataDir } from './processes.js';

test('an etcd3 watcher resumes across a Tern restart without losing or repeating an event', async (t) => {
  const dataDir = tempDataDir();
  let tern = await startTern({ dataDir });
  const port = Number(tern.endpoint.split(':')[1]);
  const client = new Etcd3({ hosts: tern.endpoint });
  try {
    const seen: string[] = [];
    const watcher = await client.watch().prefix('r/').create();
    watcher.on('put', (kv) => { seen.push(kv.value.toString()); });
    for (const v of ['1', '2', '3']) await client.put(`r/${v}`).value(v);
    for (let i = 0; i < 250 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    t.is(await tern.stop(), 0);
    tern = await startTern({ dataDir, port });
    // Written perhaps before the watcher is back: it reconnects (with backoff) and
    // re-creates itself from its last revision + 1, so it gets them either way.
    for (const v of ['4', '5']) await client.put(`r/${v}`).value(v);
    for (let i = 0; i < 1000 && seen.length < 5; i++) await new Promise((r) => setTimeout(r, 20));
    t.deepEqual(seen, ['1', '2', '3', '4', '5']);
    await watcher.cancel();
  } finally {
    client.close();
    await tern.stop();
    removeDataDir(dataDir);
  }
});
