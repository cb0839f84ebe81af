// etcd's logging flags, checked as embed/config_logging.go setupLogging checks them:
// --logger, --log-level, --log-outputs (and its deprecated spelling --log-output),
// --debug. A refusal is an error verifying flags (exit 1), but an unknown --log-level
// is a Go panic in etcd (exit 2), and Tern ends the same way.

import { parseGoBool } from '../tls/tlsFlags.js';
import { fileSink, Logger, LOG_LEVELS, streamSink, type LoggerKind, type LogLevel, type LogSink } from './logger.js';

export interface LogSettings {
  readonly kind: LoggerKind;
  readonly level: LogLevel;
  /** 'default', 'stderr', 'stdout', 'systemd/journal' or file paths. */
  readonly outputs: readonly string[];
  /** etcd's raw "[WARNING] …" lines about deprecated logging flags. */
  readonly warnings: readonly string[];
}

export type LogSettingsResult =
  | { readonly ok: true; readonly settings: LogSettings }
  | { readonly ok: false; readonly error: string; readonly panic: boolean };

const JOURNAL = 'systemd/journal';

export function logSettingsFrom(values: ReadonlyMap<string, string>): LogSettingsResult {
  const kind = values.get('logger') ?? 'capnslog';
  const levelText = values.get('log-level') ?? 'info';
  const debug = parseGoBool(values.get('debug') ?? 'false') === true;
  const warnings: string[] = [];
  const outputs = outputsFrom(values, warnings);
  if (typeof outputs === 'string') return { ok: false, error: outputs, panic: false };
  if (debug) warnings.push(`[WARNING] Deprecated '--debug' flag is set to true (use '--log-level=debug' instead`);
  if (debug && levelText !== 'debug') warnings.push(`[WARNING] Deprecated '--debug' flag is set to true with inconsistent '--log-level=${levelText}' flag`);
  if (values.has('log-package-levels')) {
    warnings.push(`[WARNING] Deprecated '--log-package-levels=${values.get('log-package-levels') ?? ''}' flag is set; use '--logger=zap' flag instead`);
  }
  if (kind !== 'capnslog' && kind !== 'zap') return { ok: false, error: `unknown logger option "${kind}"`, panic: false };
  const level = LOG_LEVELS.find((l) => l === levelText);
  if (level === undefined) return { ok: false, error: `unknown level "${levelText}"`, panic: true };
  const refusal = kind === 'capnslog' ? capnslogOutputsProblem(outputs) : zapOutputsProblem(outputs);
  if (refusal !== null) return { ok: false, error: refusal, panic: false };
  // etcd: --debug lowers capnslog's level; zap's level comes from --log-level alone.
  return { ok: true, settings: { kind, level: kind === 'capnslog' && debug ? 'debug' : level, outputs, warnings } };
}

/**
 * --log-outputs, reconciled with the deprecated --log-output as etcd 3.4 does it: a
 * longer --log-output list wins; lists of equal length use --log-outputs (so
 * `--log-output stdout` alone only warns), unless both name several outputs.
 */
function outputsFrom(values: ReadonlyMap<string, string>, warnings: string[]): string[] | string {
  const list = (flag: string): string[] => [...new Set((values.get(flag) ?? 'default').split(',').filter((o) => o !== ''))].sort();
  const [deprecated, current] = [list('log-output'), list('log-outputs')];
  const shown = (outputs: readonly string[]): string => `[${outputs.map((o) => `"${o}"`).join(' ')}]`;
  if (deprecated.length > current.length) {
    warnings.push('\'--log-output\' flag has been deprecated! Please use \'--log-outputs\'!');
    return deprecated;
  }
  if (deprecated.length < current.length) return current;
  if (deprecated.length > 1) return 'both \'--log-output\' and \'--log-outputs\' are set; only set \'--log-outputs\'';
  if (deprecated.length < 1) return 'either \'--log-output\' or \'--log-outputs\' flag must be set';
  if (deprecated[0] === current[0] && deprecated[0] !== 'default') {
    return `'--log-output=${shown(deprecated)}' and '--log-outputs=${shown(current)}' are incompatible; only set --log-outputs`;
  }
  if (deprecated[0] !== 'default') warnings.push(`[WARNING] Deprecated '--log-output' flag is set to ${shown(deprecated)}`, 'Please use \'--log-outputs\' flag');
  return current;
}

function capnslogOutputsProblem(outputs: readonly string[]): string | null {
  if (outputs.length !== 1) return `--logger=capnslog supports only 1 value in '--log-outputs', got [${outputs.map((o) => `"${o}"`).join(' ')}]`;
  const output = outputs[0] ?? '';
  return ['default', 'stderr', 'stdout'].includes(output) ? null : `unknown log-output "${output}" (only supports "default", "stderr", "stdout")`;
}

function zapOutputsProblem(outputs: readonly string[]): string | null {
  if (outputs.length > 1 && outputs.includes('default')) return 'multi logoutput for "default" is not supported yet';
  if (outputs.includes(JOURNAL) && outputs.length > 1) {
    return `running with systemd/journal but other '--log-outputs' values ([${outputs.map((o) => `"${o}"`).join(' ')}]) are configured with 'default'; override 'default' value with something else`;
  }
  return null;
}

/**
 * The logger the settings describe. Tern has no journald writer: 'default' and
 * 'systemd/journal' write to stderr (etcd's own fallback when there is no journal).
 */
export function loggerFor(settings: LogSettings): Logger {
  const sinks: LogSink[] = settings.outputs.map((output) => {
    switch (output) {
      case 'default': case 'stderr': case JOURNAL: return streamSink(2);
      case 'stdout': return streamSink(1);
      default: return fileSink(output);
    }
  });
  return new Logger({ kind: settings.kind, level: settings.level, sinks });
}

/** etcd's logger before the flags are read: capnslog on stderr, info and up. */
export function bootLogger(): Logger {
  return new Logger({ kind: 'capnslog', level: 'info', sinks: [streamSink(2)] });
}
