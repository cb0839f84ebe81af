// JSON text as Go 1.19's encoding/json writes it, so the claims Tern signs are the bytes
// etcd would sign (a JWT's signature covers the exact text). JSON.stringify differs in
// strings only: Go escapes <, > and & (HTML-safe by default), U+2028 and U+2029, and
// writes control characters other than \n, \r and \t as \u00XX (Go 1.19 has no \b, \f).

const HEX = '0123456789abcdef';

/** `text` as a Go-encoded JSON string literal (quotes included). */
export function goJsonString(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code < 0x20 || char === '<' || char === '>' || char === '&') out += `\\u00${HEX[code >> 4] ?? '0'}${HEX[code & 15] ?? '0'}`;
    else if (code === 0x2028 || code === 0x2029) out += `\\u${code.toString(16)}`;
    // A lone surrogate has no UTF-8 form: Go would see U+FFFD's bytes and write them as they are.
    else if (code >= 0xd800 && code <= 0xdfff) out += '\ufffd';
    else out += char;
  }
  return `${out}"`;
}
