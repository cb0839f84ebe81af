// Where a member's flag values come from, in etcd's order (etcdmain/config.go parse):
//   1. the command line, parsed as Go's flag package does: `-x` and `--x`, `--x=v` and
//      `--x v`, a bool flag bare or `--x=false`, `--` ending the flags, the last of a
//      repeated flag winning; a refusal is a usage error (exit 2);
//   2. --version, then --help / -h, answered at once;
//   3. with --config-file (or ETCD_CONFIG_FILE): that file alone (configFile.ts);
//      otherwise ETCD_* variables fill the flags the command line left unset
//      (pkg/flags SetFlagsFromEnv): a variable whose flag is also given is fatal, an
//      ETCD_ variable naming no flag is a warning, a value that does not parse is an
//      error (exit 1).
// What etcd logs on the way (before its logger exists, so always in capnslog form) comes
// back as notices for the caller to print.

import { envName, flagSpec, FLAG_TABLE } from './flagTable.js';
import { goValueProblem } from './goValues.js';

export type ValueSource = 'flag' | 'env' | 'file';

/** A line etcd's pkg/flags logs while reading the variables. */
export interface Notice {
  readonly level: 'info' | 'warn';
  readonly text: string;
}

export interface CommandLine {
  readonly values: ReadonlyMap<string, string>;
  /** The first argument that is not a flag (Go stops parsing there); etcd refuses it. */
  readonly stray: string | null;
  readonly notices: readonly Notice[];
}

export type ParsedArgs =
  | { readonly kind: 'flags'; readonly commandLine: CommandLine }
  | { readonly kind: 'help' }
  /** Go's flag errors: printed with the usage, exit 2. */
  | { readonly kind: 'usage-error'; readonly message: string };

/** Go's flag.FlagSet.Parse over etcd's flag set. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const values = new Map<string, string>();
  const notices: Notice[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg.length < 2 || !arg.startsWith('-')) return { kind: 'flags', commandLine: { values, stray: arg, notices } };
    if (arg === '--') return { kind: 'flags', commandLine: { values, stray: argv[i + 1] ?? null, notices } };
    const body = arg.slice(arg.startsWith('--') ? 2 : 1);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) return usageError(`bad flag syntax: ${arg}`);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const spec = flagSpec(name);
    if (spec === undefined) {
      return name === 'help' || name === 'h' ? { kind: 'help' } : usageError(`flag provided but not defined: -${name}`);
    }
    let value = eq < 0 ? undefined : body.slice(eq + 1);
    if (value === undefined && spec.type.kind !== 'bool') {
      value = argv[++i];
      if (value === undefined) return usageError(`flag needs an argument: -${name}`);
    }
    const given = value ?? 'true';
    const problem = goValueProblem(spec.type, given);
    if (problem !== null) {
      return usageError(spec.type.kind === 'bool'
        ? `invalid boolean value "${given}" for -${name}: ${problem}`
        : `invalid value "${given}" for flag -${name}: ${problem}`);
    }
    if (spec.disposition.kind === 'legacy') notices.push(legacyNotice(name));
    values.set(name, given);
  }
  return { kind: 'flags', commandLine: { values, stray: null, notices } };
}

const usageError = (message: string): ParsedArgs => ({ kind: 'usage-error', message });

const legacyNotice = (name: string): Notice => ({ level: 'warn', text: `flag "-${name}" is no longer supported - ignoring.` });

export type EnvResult =
  | { readonly ok: true; readonly values: ReadonlyMap<string, string>; readonly sources: ReadonlyMap<string, ValueSource>; readonly notices: readonly Notice[] }
  /** fatal: etcd's log.Fatal (critical); otherwise an error verifying flags. Both exit 1. */
  | { readonly ok: false; readonly error: string; readonly fatal: boolean; readonly notices: readonly Notice[] };

/**
 * The command line's values with the ETCD_* variables filled in. Go visits flags in
 * name order and keeps the last refusal; the variables are checked (shadowed, unknown)
 * before that refusal is returned, as etcd does.
 */
export function withEnvironment(commandLine: CommandLine, env: Readonly<Record<string, string | undefined>>): EnvResult {
  const values = new Map(commandLine.values);
  const sources = new Map<string, ValueSource>([...commandLine.values.keys()].map((k) => [k, 'flag']));
  const notices: Notice[] = [...commandLine.notices];
  const used = new Set<string>();
  let refusal: string | null = null;
  for (const spec of [...FLAG_TABLE].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const key = envName(spec.name);
    const raw = env[key];
    if (commandLine.values.has(spec.name) || raw === undefined || raw === '') continue;
    used.add(key);
    const problem = goValueProblem(spec.type, raw);
    if (problem !== null) {
      refusal = `invalid value "${raw}" for ${key}: ${problem}`;
      continue;
    }
    if (spec.disposition.kind === 'legacy') notices.push(legacyNotice(spec.name));
    values.set(spec.name, raw);
    sources.set(spec.name, 'env');
    notices.push({ level: 'info', text: `recognized and used environment variable ${key}=${raw}` });
  }
  const shadowing = new Set([...commandLine.values.keys()].map(envName));
  for (const [key, raw] of Object.entries(env)) {
    if (raw === undefined || used.has(key)) continue;
    if (shadowing.has(key)) {
      const error = `conflicting environment variable "${key}" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`;
      return { ok: false, error, fatal: true, notices };
    }
    if (key.startsWith('ETCD_')) notices.push({ level: 'warn', text: `unrecognized environment variable ${key}=${raw}` });
  }
  if (refusal !== null) return { ok: false, error: refusal, fatal: false, notices };
  return { ok: true, values, sources, notices };
}
