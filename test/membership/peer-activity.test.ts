// Since when a peer has been connected, on the member's clock (the removal health check
// reads it): a peer never contacted counts as up since always; one contacted with no
// stream open is down; the time stays while any stream (either way) stays open.
import test from 'ava';
import { PeerActivity } from '../../core/membership/peerActivity.js';

test('streams either way keep a peer connected since the first one opened', (t) => {
  let now = 100;
  const activity = new PeerActivity({ nowMs: () => now });
  t.is(activity.activeSinceMs(2), 0, 'never contacted: assumed up since always');
  activity.noteContact(2);
  t.is(activity.activeSinceMs(2), null, 'contacted, no stream: down');
  activity.opened(2, 'out');
  now = 200;
  activity.opened(2, 'in');
  activity.closed(2, 'out');
  t.is(activity.activeSinceMs(2), 100, 'the incoming stream kept it connected');
  activity.closed(2, 'in');
  t.is(activity.activeSinceMs(2), null);
  now = 300;
  activity.opened(2, 'in');
  t.is(activity.activeSinceMs(2), 300, 'a new stream after a gap starts a new period');
  t.throws(() => { activity.closed(2, 'out'); }, { message: /no out stream/ });
});
