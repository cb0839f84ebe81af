// Flags of etcd's cobra subcommands (`etcd gateway start`, `etcd grpc-proxy start`), read
// as cobra and pflag read them: `--name value` or `--name=value`, a bool flag alone
// meaning true, flags before or after the `start` word (etcd's e2e passes them either
// way), and cobra's texts for what does not fit.

import { parseGoBool } from '../tls/tlsFlags.js';

export interface CobraSpec {
  /** The subcommand's name for cobra's messages ("etcd gateway"). */
  readonly command: string;
  /** Flags that take a value. */
  readonly values: ReadonlySet<string>;
  /** Bool flags: `--x`, `--x=true`, `--x=false`. */
  readonly bools: ReadonlySet<string>;
}

export type CobraResult =
  | { readonly ok: true; readonly started: boolean; readonly values: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly error: string };

/** Bounds a command line (an argv this long is not a person's). */
const MAX_ARGS = 1000;

export function parseCobraFlags(argv: readonly string[], spec: CobraSpec): CobraResult {
  if (argv.length > MAX_ARGS) return { ok: false, error: `Error: more than ${MAX_ARGS} arguments` };
  const values = new Map<string, string>();
  let started = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === 'start' && !started) {
      started = true;
      continue;
    }
    const match = /^--?([a-z0-9-]+)(?:=([\s\S]*))?$/.exec(arg);
    if (match === null) return { ok: false, error: `Error: unknown command "${arg}" for "${spec.command}"` };
    const name = match[1] ?? '';
    const inline = match[2];
    if (spec.bools.has(name)) {
      const value = inline ?? 'true';
      if (parseGoBool(value) === null) return { ok: false, error: `Error: invalid argument "${value}" for "--${name}" flag: strconv.ParseBool: parsing "${value}": invalid syntax` };
      values.set(name, value);
      continue;
    }
    if (!spec.values.has(name)) return { ok: false, error: `Error: unknown flag: --${name}` };
    const value = inline ?? argv[++i];
    if (value === undefined) return { ok: false, error: `Error: flag needs an argument: --${name}` };
    values.set(name, value);
  }
  return { ok: true, started, values };
}

/** A bool flag's value as parsed (absent: false). */
export function cobraBool(values: ReadonlyMap<string, string>, name: string): boolean {
  return parseGoBool(values.get(name) ?? 'false') === true;
}
