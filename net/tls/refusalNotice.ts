// How a member that refuses a peer's certificate lets the dialing member know why.
//
// etcd (Go's crypto/tls) refuses a peer certificate inside the handshake: the server
// sends a TLS alert (bad_certificate, certificate_required) and the dialer logs
// "remote error: tls: bad certificate". node:tls cannot send an alert of our choosing:
// it accepts every certificate during the handshake and tells the verdict afterwards
// (its verify callback always returns 1), so a refused dialer sees only a connection
// that closes, and cannot tell a refusal from a crash.
//
// So on the peer port, after a refused handshake, the refusing member writes one line
// naming the alert etcd would have sent, then closes. A dialing Tern member whose
// connection keeps failing opens one probe connection, reads that line, and logs the
// refusal in etcd's words. Only the name of a TLS alert is ever sent: nothing of the
// member's state reaches a peer it refused.

import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';

/** The line's start; what follows is a TLS alert's description as Go prints it. */
const PREFIX = 'tern-tls-refused: ';

/** Go's names of the alerts etcd sends when it refuses a client certificate. */
export type RefusalAlert = 'bad certificate' | 'certificate required';

/** A refused socket that does not close within this time after the notice is destroyed. */
const CLOSE_LIMIT_MS = 2_000;
/** A probe that learns nothing within this time gives up. */
export const PROBE_LIMIT_MS = 3_000;
/** The notice is one short line; a probe reads no more than this. */
const MAX_NOTICE_BYTES = 128;

/** Writes the notice on a secured, refused socket and closes it. */
export function sendRefusalNotice(socket: TLSSocket, alert: RefusalAlert): void {
  const timer = setTimeout(() => { socket.destroy(); }, CLOSE_LIMIT_MS);
  socket.once('close', () => { clearTimeout(timer); });
  socket.on('error', () => { socket.destroy(); });
  socket.end(`${PREFIX}${alert}\n`);
}

/** The alert named by the first bytes a peer sent, or null if they are no notice. */
export function alertOf(bytes: string): RefusalAlert | null {
  if (!bytes.startsWith(PREFIX)) return null;
  const alert = bytes.slice(PREFIX.length).split('\n')[0];
  return alert === 'bad certificate' || alert === 'certificate required' ? alert : null;
}

/**
 * Dials `host:port` with `tls` and resolves with the alert its refusal notice names,
 * or null (it accepted us, sent something else, or was not there).
 */
export function probeRefusal(host: string, port: number, tls: ConnectionOptions): Promise<RefusalAlert | null> {
  return new Promise((resolve) => {
    let bytes = '';
    let done = false;
    const socket = connect({ ...tls, host, port, ALPNProtocols: ['h2'] });
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(alertOf(bytes));
    };
    const timer = setTimeout(finish, PROBE_LIMIT_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      bytes += chunk;
      if (bytes.length >= MAX_NOTICE_BYTES || bytes.includes('\n')) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
  });
}
