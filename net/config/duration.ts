// Go's time.ParseDuration, as etcd's flags use it ("90s", "1h30m", "1.5h", "300ms").
// Returns milliseconds, or null if the text is not a Go duration.

const UNIT_MS: ReadonlyMap<string, number> = new Map([
  ['ns', 1e-6], ['us', 1e-3], ['µs', 1e-3], ['ms', 1], ['s', 1000], ['m', 60_000], ['h', 3_600_000],
]);

const PART = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/;

export function parseGoDurationMs(text: string): number | null {
  let rest = text.startsWith('+') || text.startsWith('-') ? text.slice(1) : text;
  const negative = text.startsWith('-');
  if (rest === '0') return 0;
  if (rest === '') return null;
  let total = 0;
  while (rest !== '') {
    const match = PART.exec(rest);
    if (match === null) return null;
    const [whole, amount = '', unit = ''] = match;
    total += Number(amount) * (UNIT_MS.get(unit) ?? Number.NaN);
    rest = rest.slice(whole.length);
  }
  return Number.isFinite(total) ? (negative ? -total : total) : null;
}
