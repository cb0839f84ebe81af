// What Tern does with a flag that is set, beyond reading its value (flagTable.ts says
// which flag is which): a refused flag given anything but its default stops the start,
// an inert one is accepted with a line saying it has no effect.

import { flagSpec, type FlagSpec } from './flagTable.js';
import { parseGoBool } from '../tls/tlsFlags.js';

/** Flags given a value other than their default whose subject Tern refuses; null if none. */
export function refusedFlag(values: ReadonlyMap<string, string>): string | null {
  for (const [name, raw] of values) {
    const spec = flagSpec(name);
    if (spec?.disposition.kind !== 'refused' || isAllowed(spec, raw, spec.disposition.allowed)) continue;
    return `--${name}=${raw} is not supported by Tern: ${spec.disposition.why} (only ${allowedText(spec.disposition.allowed)} is accepted)`;
  }
  return null;
}

function isAllowed(spec: FlagSpec, raw: string, allowed: readonly string[]): boolean {
  if (spec.type.kind !== 'bool') return allowed.includes(raw);
  return allowed.some((a) => parseGoBool(a) === parseGoBool(raw));
}

const allowedText = (allowed: readonly string[]): string => allowed.map((a) => (a === '' ? 'empty' : `"${a}"`)).join(' or ');

/** One line per inert flag that was set: that it is accepted and why it does nothing. */
export function inertNotices(values: ReadonlyMap<string, string>): string[] {
  const lines: string[] = [];
  for (const name of values.keys()) {
    const spec = flagSpec(name);
    if (spec?.disposition.kind === 'inert') lines.push(`--${name} accepted; no effect in Tern: ${spec.disposition.why}`);
  }
  return lines;
}
