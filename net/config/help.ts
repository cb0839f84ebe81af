// `tern --help` and `tern --version`, written from the flag table. The layout follows
// etcd's (a usage block on stderr, the flags by section on stdout, `--name 'default'`
// then an indented line), so people and scripts that read etcd's find their way; the
// words are Tern's own, and say what Tern does with each flag.

import { ETCD_VERSION } from '../services/context.js';
import { FLAG_TABLE, type FlagSpec, type Section } from './flagTable.js';

/** Tern's own version (package.json). */
export const TERN_VERSION = '0.1.0';

/** What etcd prints before the flags (and alone after a usage error). */
export const USAGE = [
  'Usage:',
  '',
  '  tern [flags]',
  '    Start a Tern member (etcd 3.4\'s flags, ETCD_* variables and config file).',
  '',
  '  tern --version',
  '    Show the etcd version Tern implements, and Tern\'s.',
  '',
  '  tern -h | --help',
  '    Show this help.',
  '',
  '  tern --config-file <file>',
  '    Read etcd\'s YAML configuration; other flags and ETCD_* variables are then ignored.',
  '',
].join('\n');

const SECTIONS: readonly Section[] = [
  'Member', 'Clustering', 'Security', 'Auth', 'Profiling and Monitoring', 'Logging', 'v2 Proxy', 'Experimental', 'Unsafe', 'Deprecated',
];

/** The flags, by section, with what Tern does with the inert and refused ones. */
export function flagsHelp(): string {
  const lines: string[] = [];
  for (const section of SECTIONS) {
    lines.push('', `${section}:`);
    for (const spec of FLAG_TABLE.filter((s) => s.section === section && s.hidden !== true)) lines.push(...flagLines(spec));
  }
  lines.push('', 'Every flag can also be set by ETCD_<FLAG> (upper case, - as _), unless it is on the command line too.',
    'What Tern does with each flag: docs/flags.md.', '');
  return lines.join('\n');
}

function flagLines(spec: FlagSpec): string[] {
  const shown = spec.type.kind === 'bool' || spec.etcdDefault !== '' ? `'${spec.etcdDefault}'` : '\'\'';
  const lines = [`  --${spec.name} ${shown}`, `    ${spec.summary}`];
  switch (spec.disposition.kind) {
    case 'inert':
      lines.push(`    [no effect in Tern: ${spec.disposition.why}]`);
      break;
    case 'refused':
      lines.push(`    [Tern refuses other values: ${spec.disposition.why}]`);
      break;
    case 'honoured':
    case 'legacy':
      break;
  }
  return lines;
}

/** `etcd --version`'s four lines (tools read "etcd Version:"), then Tern's. */
export function versionText(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return [
    `etcd Version: ${ETCD_VERSION}`,
    'Git SHA: Not provided (Tern implements etcd\'s API; it is not built from etcd\'s source)',
    `Go Version: none (Tern runs on Node ${process.version})`,
    `Go OS/Arch: ${process.platform}/${arch}`,
    `Tern Version: ${TERN_VERSION}`,
    '',
  ].join('\n');
}
