// What one `tern …` command line asks for, decided in etcd's order (etcdmain
// config.parse): help, the version, or a member to run with its settings, read from
// the command line and the ETCD_* variables, or from --config-file alone. I/O (the
// environment, the file) comes in as arguments, so this is tested without processes.

import { configFromYaml } from './configFile.js';
import { parseArgs, withEnvironment, type Notice, type ValueSource } from './flagSources.js';
import { flagsFromValues, type Flags } from './flags.js';
import { logSettingsFrom, type LogSettings } from '../log/logConfig.js';
import { parseGoBool } from '../tls/tlsFlags.js';

/** How a refusal is printed, as etcd prints it. */
export type RefusalForm =
  /** Go's flag package: the text, then the usage, on stderr; exit 2. */
  | 'usage'
  /** etcdmain: "error verifying flags, <text>. See 'etcd --help'." at error level; exit 1. */
  | 'verify'
  /** log.Fatal / plog.Fatalf: the text at critical level; exit 1. */
  | 'fatal'
  /** A Go panic: "panic: <text>"; exit 2. */
  | 'panic'
  /** A refusal of Tern's own, or one etcd makes later in its start: logged at error level. */
  | 'error';

export type Invocation =
  | { readonly kind: 'help' }
  /** notices: etcd warns of its removed flags while parsing, before it prints the version. */
  | { readonly kind: 'version'; readonly notices: readonly Notice[] }
  | {
    readonly kind: 'refused';
    readonly message: string;
    readonly exitCode: 1 | 2;
    readonly form: RefusalForm;
    readonly notices: readonly Notice[];
    /** The logging flags, when they themselves were fine: etcd then reports in that form (zap). */
    readonly logging?: LogSettings;
  }
  | {
    readonly kind: 'run';
    readonly flags: Flags;
    /** What pkg/flags said about the variables (capnslog form, before the logger exists). */
    readonly notices: readonly Notice[];
    /** The config file the settings came from; null: the command line and variables. */
    readonly configFile: string | null;
    /** Keys of the config file etcd would ignore. */
    readonly ignoredKeys: readonly string[];
  };

export interface InvocationWorld {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The file's text; throws Node's error (ENOENT…) if it cannot be read. */
  readonly readFile: (path: string) => string;
}

const SUBCOMMANDS = new Set(['gateway', 'grpc-proxy']); // served before the flags are read (net/bin/tern.ts)

export function readInvocation(argv: readonly string[], world: InvocationWorld): Invocation {
  const first = argv[0];
  if (first !== undefined && SUBCOMMANDS.has(first)) {
    return refused(`etcd ${first} is not part of Tern: run etcd's own binary for it`, 1, 'error');
  }
  const parsed = parseArgs(argv);
  if (parsed.kind === 'help') return { kind: 'help' };
  if (parsed.kind === 'usage-error') return refused(parsed.message, 2, 'usage');
  const { commandLine } = parsed;
  if (commandLine.stray !== null) return refused(`'${commandLine.stray}' is not a valid flag`, 1, 'verify', commandLine.notices);
  if (isTrue(commandLine.values.get('version'))) return { kind: 'version', notices: commandLine.notices };
  const configFile = nonEmpty(commandLine.values.get('config-file')) ?? nonEmpty(world.env.ETCD_CONFIG_FILE);
  if (configFile !== undefined) return fromFile(configFile, world, commandLine.notices);
  const withEnv = withEnvironment(commandLine, world.env);
  if (!withEnv.ok) return refused(withEnv.error, 1, withEnv.fatal ? 'fatal' : 'verify', withEnv.notices);
  return run(withEnv.values, withEnv.sources, withEnv.notices, { configFile: null, ignoredKeys: [] });
}

function fromFile(file: string, world: InvocationWorld, notices: readonly Notice[]): Invocation {
  let text: string;
  try {
    text = world.readFile(file);
  } catch (error) {
    return refused(goOpenError(file, error), 1, 'verify', notices);
  }
  const loaded = configFromYaml(text);
  if (!loaded.ok) return refused(loaded.error, 1, 'verify', notices);
  const sources = new Map<string, ValueSource>([...loaded.values.keys()].map((k) => [k, 'file']));
  return run(loaded.values, sources, notices, { configFile: file, ignoredKeys: loaded.ignoredKeys });
}

function run(
  values: ReadonlyMap<string, string>, sources: ReadonlyMap<string, ValueSource>, notices: readonly Notice[],
  origin: { readonly configFile: string | null; readonly ignoredKeys: readonly string[] },
): Invocation {
  const result = flagsFromValues(values, sources);
  if (result.ok) return { kind: 'run', flags: result.flags, notices, ...origin };
  const form: RefusalForm = result.panic === true ? 'panic' : result.exitCode === 2 ? 'usage' : result.verify === true ? 'verify' : 'error';
  const logging = logSettingsFrom(values);
  return { ...refused(result.error, result.exitCode, form, notices), ...(logging.ok ? { logging: logging.settings } : {}) };
}

const refused = (message: string, exitCode: 1 | 2, form: RefusalForm, notices: readonly Notice[] = []): Invocation =>
  ({ kind: 'refused', message, exitCode, form, notices });

const isTrue = (raw: string | undefined): boolean => parseGoBool(raw ?? '') === true;
const nonEmpty = (raw: string | undefined): string | undefined => (raw === undefined || raw === '' ? undefined : raw);

/** Go's *PathError text for a file that cannot be read ("open x: no such file or directory"). */
function goOpenError(file: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const why: Readonly<Record<string, string>> = {
    ENOENT: 'no such file or directory', EACCES: 'permission denied', ENOTDIR: 'not a directory',
  };
  if (code === 'EISDIR') return `read ${file}: is a directory`;
  return `open ${file}: ${(code === undefined ? undefined : why[code]) ?? String(error)}`;
}
