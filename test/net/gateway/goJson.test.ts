// Go's encoding/json and base64 readings that etcd's gateway reports verbatim; the
// expected texts are what etcd 3.4.23 answered to the same bodies (loopback, December).
import test from 'ava';
import { goBase64Decode } from '../../../net/gateway/goBase64.js';
import { decodeFirstValue, quoteChar, unmarshalWhole } from '../../../net/gateway/goJsonParse.js';

const bytes = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const errorOf = (r: ReturnType<typeof decodeFirstValue>): string => (r.ok === false ? r.error : r.ok === 'empty' ? 'EMPTY' : 'OK');

test('the decoder reads the first value and names the first bad byte as Go does', (t) => {
  t.is(errorOf(decodeFirstValue(bytes('{"key":'))), 'unexpected EOF');
  t.is(errorOf(decodeFirstValue(bytes('{"key":"a"} trailing'))), 'OK');
  t.is(errorOf(decodeFirstValue(bytes(' \n'))), 'EMPTY');
  t.is(errorOf(decodeFirstValue(bytes('{"a" 1}'))), "invalid character '1' after object key");
  t.is(errorOf(decodeFirstValue(bytes('{"a":1,}'))), "invalid character '}' looking for beginning of object key string");
  t.is(errorOf(decodeFirstValue(bytes('[1 2]'))), "invalid character '2' after array element");
  t.is(errorOf(decodeFirstValue(bytes('{"a":tru}'))), "invalid character '}' in literal true (expecting 'e')");
  t.is(errorOf(decodeFirstValue(bytes('x'))), "invalid character 'x' looking for beginning of value");
  t.is(errorOf(decodeFirstValue(bytes('"\\x"'))), "invalid character 'x' in string escape code");
  t.is(errorOf(decodeFirstValue(bytes('['.repeat(10_001)))), "invalid character '[' exceeded max depth");
});

test('a whole-text reading (a quoted number\'s inside) ends as Go\'s Unmarshal ends', (t) => {
  t.is(errorOf(unmarshalWhole(bytes(''))), 'unexpected end of JSON input');
  t.is(errorOf(unmarshalWhole(bytes('1 2'))), "invalid character '2' after top-level value");
  t.is(errorOf(unmarshalWhole(bytes('-'))), "invalid character ' ' in numeric literal");
  t.is(errorOf(unmarshalWhole(bytes('1.'))), "invalid character ' ' after decimal point in numeric literal");
});

test('bytes are named as Go names them', (t) => {
  t.is(quoteChar(0x27), "'\\''");
  t.is(quoteChar(0x01), "'\\x01'");
  t.is(quoteChar(0xe9), "'é'");
  t.is(quoteChar(0x85), "'\\u0085'");
});

test('base64 is read as Go\'s StdEncoding reads it, refusals at Go\'s offsets', (t) => {
  const decoded = (text: string): string => {
    const r = goBase64Decode(bytes(text));
    return 'error' in r ? r.error : Buffer.from(r.bytes).toString('latin1');
  };
  t.is(decoded('Zm9v'), 'foo');
  t.is(decoded('Zm9vYQ=='), 'fooa');
  t.is(decoded('Zm9v\nYmFy'), 'foobar');
  t.is(decoded('Zm9'), 'illegal base64 data at input byte 0');
  t.is(decoded('Zm9v='), 'illegal base64 data at input byte 4');
  t.is(decoded('Zm9vYQ'), 'illegal base64 data at input byte 4');
  t.is(decoded('!!!!'), 'illegal base64 data at input byte 0');
  t.is(decoded('YQ==YQ=='), 'illegal base64 data at input byte 4');
});
