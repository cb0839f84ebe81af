// Ports for members and proxies come from below the kernel's ephemeral range, where no
// outgoing connection's local port can take them between the choice and the bind.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePorts } from '../../jepsen-like/real/ports.js';

test('free ports are distinct, below the ephemeral range, and bindable', async (t) => {
  const ephemeral = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  const ports = await freePorts(30);
  t.is(new Set(ports).size, 30);
  for (const port of ports) t.true(port >= 24_000 && port < ephemeral, String(port));
  const server = createServer();
  const first = ports[0] ?? 0;
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(first, '127.0.0.1', resolve); });
  try {
    // A port in use is never handed out: draw many and none is the bound one.
    const again = await freePorts(200);
    t.false(again.includes(first));
  } finally {
    server.close();
  }
});
