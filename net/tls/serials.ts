// Certificate serial numbers as the CRL check compares them.

/** Serial numbers compare as integers: drop case and leading zeros. */
export function normalizeSerial(hex: string): string {
  const lower = hex.toLowerCase().replace(/^0+/, '');
  return lower === '' ? '0' : lower;
}
