// The gateway's stream slots: at most `limit` calls at once, the rest wait in order, a
// waiter that goes away gives up its place, and a full queue refuses.
import test from 'ava';
import { MAX_WAITING, StreamSlots } from '../../../net/gateway/streamSlots.js';

test('calls beyond the limit wait, in order, for one to end', (t) => {
  const slots = new StreamSlots(2);
  const started: string[] = [];
  const releases: (() => void)[] = [];
  for (const name of ['a', 'b', 'c', 'd']) {
    t.true(slots.acquire((release) => { started.push(name); releases.push(release); }, () => undefined));
  }
  t.deepEqual(started, ['a', 'b']);
  releases[0]?.();
  releases[0]?.(); // a second release of the same call frees nothing more
  t.deepEqual(started, ['a', 'b', 'c']);
  releases[1]?.();
  t.deepEqual(started, ['a', 'b', 'c', 'd']);
});

test('a waiter that goes away never starts; a full queue refuses', (t) => {
  const slots = new StreamSlots(1);
  let gone: (() => void) | null = null;
  const started: string[] = [];
  let releaseFirst = (): void => undefined;
  slots.acquire((release) => { started.push('first'); releaseFirst = release; }, () => undefined);
  slots.acquire(() => { started.push('leaver'); }, (onGone) => { gone = onGone; });
  slots.acquire(() => { started.push('stayer'); }, () => undefined);
  (gone as (() => void) | null)?.();
  releaseFirst();
  t.deepEqual(started, ['first', 'stayer']);
  const full = new StreamSlots(1);
  full.acquire(() => undefined, () => undefined);
  for (let i = 0; i < MAX_WAITING; i++) full.acquire(() => undefined, () => undefined);
  t.false(full.acquire(() => undefined, () => undefined));
});
