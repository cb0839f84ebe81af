// Run as a separate process by the storage tests: opens the LMDB log store in the
// directory given and prints its recovery as JSON (bytes as arrays).
import { LmdbLogStore } from '../../storage/lmdbLogStore.js';
import { plain } from './util.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: recoverChild <dir>');
const store = LmdbLogStore.open(dir);
process.stdout.write(JSON.stringify(plain(store.recover())));
await store.close();
