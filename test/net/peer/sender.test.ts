// The per-peer sender never blocks the driver: beyond its bound messages are dropped
// and counted; a peer that is down costs a bounded queue, then drops until it is back.
import test from 'ava';
import { message } from '../../../core/raft/types.js';
import { PeerSender } from '../../../net/peer/sender.js';
import { freePort } from '../processes.js';

test('messages beyond the queue bound are dropped and counted; a dead peer drops the queue', async (t) => {
  const port = await freePort(); // nothing listens there
  const lines: string[] = [];
  const sender = new PeerSender({
    address: `127.0.0.1:${port}`, clusterId: '1', fromId: '2', queueLimit: 100, backoffMinMs: 20, backoffMaxMs: 40,
    log: (line) => { lines.push(line); },
  });
  try {
    const heartbeat = message({ type: 'MsgHeartbeat', from: 2, to: 3, term: 1 });
    for (let i = 0; i < 10_000; i++) sender.send(heartbeat);
    // grpc-js takes a few into its stream buffer; the rest wait in the bounded queue or are dropped.
    t.true(sender.stats.dropped >= 10_000 - 100 - 64, `dropped ${sender.stats.dropped}`);
    await new Promise((r) => setTimeout(r, 300));
    t.is(sender.stats.sent + sender.stats.dropped, 10_000, 'every message is either written or counted as dropped');
    t.is(sender.stats.connects, 0);
    t.is(lines.length, 1, 'a peer that stays down is logged once');
  } finally {
    sender.close();
  }
});
