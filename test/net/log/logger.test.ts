// The member's log in etcd's two forms, and etcd's checks of the logging flags.
import test from 'ava';
import { Logger, type LogSink } from '../../../net/log/logger.js';
import { logSettingsFrom } from '../../../net/log/logConfig.js';

function capture(kind: 'zap' | 'capnslog', level: 'debug' | 'info' | 'warn' = 'info'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink: LogSink = { write: (line) => { lines.push(line); }, close: () => undefined };
  const at = new Date(2026, 11, 3, 5, 39, 49, 885);
  return { logger: new Logger({ kind, level, sinks: [sink], now: () => at }), lines };
}

test('zap: one JSON object per line, keys level, ts, caller, msg, then the fields in order', (t) => {
  const { logger, lines } = capture('zap');
  logger.at('etcdserver').info('published local member to cluster through raft', { 'local-member-id': '8e9e05c52164694d', 'max-wals': 5 });
  t.is(lines.length, 1);
  const line = lines[0] ?? '';
  t.true(line.endsWith('\n'));
  const parsed = JSON.parse(line) as Record<string, unknown>;
  t.deepEqual(Object.keys(parsed), ['level', 'ts', 'caller', 'msg', 'local-member-id', 'max-wals']);
  t.like(parsed, { level: 'info', caller: 'etcdserver', msg: 'published local member to cluster through raft', 'max-wals': 5 });
  t.regex(String(parsed.ts), /^2026-12-03T05:39:49\.885(Z|[+-]\d{4})$/);
});

test('capnslog: "date time.micros L | pkg: text", with its own wording where given', (t) => {
  const { logger, lines } = capture('capnslog');
  logger.at('etcdserver').info('published local member to cluster through raft', { 'cluster-id': 'c' }, 'published {Name:a} to cluster c');
  logger.at('embed').warn('disk is slow', { took: '2s' });
  t.deepEqual(lines, [
    '2026-12-03 05:39:49.885000 I | etcdserver: published {Name:a} to cluster c\n',
    '2026-12-03 05:39:49.885000 W | embed: disk is slow (took=2s)\n',
  ]);
});

test('lines below the level are dropped', (t) => {
  const { logger, lines } = capture('capnslog', 'warn');
  logger.info('quiet');
  logger.debug('quieter');
  logger.error('loud');
  t.is(lines.length, 1);
  t.regex(lines[0] ?? '', / E \| tern: loud/);
});

test('logging flags default to capnslog, info, default output', (t) => {
  t.deepEqual(logSettingsFrom(new Map()), { ok: true, settings: { kind: 'capnslog', level: 'info', outputs: ['default'], warnings: [] } });
});

test('--debug: capnslog logs at debug; zap keeps --log-level (as etcd 3.4); both warn that it is deprecated', (t) => {
  const capnslog = logSettingsFrom(new Map([['debug', 'true']]));
  const zap = logSettingsFrom(new Map([['debug', 'true'], ['logger', 'zap']]));
  t.true(capnslog.ok && capnslog.settings.level === 'debug');
  t.true(zap.ok && zap.settings.level === 'info');
  t.true(zap.ok && zap.settings.warnings.includes('[WARNING] Deprecated \'--debug\' flag is set to true (use \'--log-level=debug\' instead'));
});

test('etcd\'s refusals of the logging flags', (t) => {
  for (const [pairs, error, panic] of [
    [[['logger', 'bogus']], 'unknown logger option "bogus"', false],
    [[['log-level', 'bogus']], 'unknown level "bogus"', true],
    [[['log-outputs', 'stdout,stderr']], '--logger=capnslog supports only 1 value in \'--log-outputs\', got ["stderr" "stdout"]', false],
    [[['log-outputs', '/tmp/x']], 'unknown log-output "/tmp/x" (only supports "default", "stderr", "stdout")', false],
    [[['logger', 'zap'], ['log-outputs', 'default,stderr']], 'multi logoutput for "default" is not supported yet', false],
  ] as const) {
    t.deepEqual(logSettingsFrom(new Map(pairs)), { ok: false, error, panic });
  }
  const zapFiles = logSettingsFrom(new Map([['logger', 'zap'], ['log-outputs', 'stderr,/tmp/a.log']]));
  t.true(zapFiles.ok && zapFiles.settings.outputs.join() === '/tmp/a.log,stderr');
});
