// The URL helpers: etcd's http://host:port URLs as the host:port grpc-js binds, and
// host:port taken apart for node:net.
import test from 'ava';
import { hostPort, peerDialTarget, splitHostPort } from '../../../net/config/urls.js';

test('an http URL with a port becomes host:port; anything else is refused', (t) => {
  t.is(hostPort('http://127.0.0.1:2379'), '127.0.0.1:2379');
  t.is(hostPort('http://[::1]:2380'), '[::1]:2380');
  t.is(hostPort('http://localhost'), null, 'no port');
  t.is(hostPort('https://127.0.0.1:2379'), '127.0.0.1:2379');
  t.is(hostPort('unixs://tern.sock'), null, 'not a TCP URL');
  t.is(hostPort('127.0.0.1:2379'), null, 'not a URL');
});

test('host:port splits at the last colon; IPv6 brackets come off', (t) => {
  t.deepEqual(splitHostPort('127.0.0.1:2379'), ['127.0.0.1', 2379]);
  t.deepEqual(splitHostPort('[::1]:2380'), ['::1', 2380]);
});

test('a peer URL becomes what grpc-js dials: host:port, or unix:<path> for a plain unix socket', (t) => {
  t.is(peerDialTarget('http://127.0.0.1:2380'), '127.0.0.1:2380');
  t.is(peerDialTarget('https://[::1]:2380'), '[::1]:2380');
  t.is(peerDialTarget('unix://etcd.unix:1'), 'unix:etcd.unix:1', 'etcd\'s form: host and port name a file in the working directory');
  t.is(peerDialTarget('unix:///run/tern/peer.sock'), 'unix:/run/tern/peer.sock');
  t.is(peerDialTarget('unixs://etcd.unix:1'), null, 'peer TLS is served on TCP only');
  t.is(peerDialTarget('unix://'), null, 'no socket file');
});
