// UTF-8 decoding as Go's string(bytes) keeps text: a leading U+FEFF is part of the string.
// The default TextDecoder strips it as a byte-order mark, which renamed keys, users and
// roles that begin with it (found by the codec's round-trip property).

/** Decodes UTF-8, keeping a leading U+FEFF. */
export const utf8KeepingBom = new TextDecoder('utf-8', { ignoreBOM: true });
