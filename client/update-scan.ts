// Reads topic, seq and ts out of an `update` frame without decoding its data. For a receiver of
// hundreds of thousands of updates a second, such as the load generator, that saves 0.7–1.0 µs
// of the ~5 µs that receiving a ~500-byte stock update costs (`omni bench receiver`,
// docs/benchmarks.md). The scan only accepts the exact layout the gateway writes — keys
// op, topic, seq, data, ts in that order — and answers undefined for anything else, which the
// caller then decodes in full (decodeFrame). It does not validate the data in between.
//
// Plain Uint8Array and DataView, no Node Buffer: the SDK runs in browsers too.

export interface ScannedUpdate {
  topic: string;
  seq: number;
  ts: number;
}

/** One result object reused by every scan: read it before the next call. */
const result: ScannedUpdate = { topic: '', seq: 0, ts: 0 };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const CLOSE_BRACE = 0x7d;
const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const JSON_PREFIX = ascii('{"op":"update","topic":"');
const JSON_SEQ = ascii('","seq":');
const JSON_TS = ascii(',"ts"');
const utf8 = new TextDecoder();

/** The topic, seq and ts of an update frame as it arrived (`binary`: a msgpack frame), or undefined. */
export function scanUpdate(data: Uint8Array, binary: boolean): ScannedUpdate | undefined {
  return binary ? scanMsgpackUpdate(data) : scanJsonUpdate(data);
}

/** `{"op":"update","topic":"T","seq":N,"data":…,"ts":X}` → {topic, seq, ts}. */
export function scanJsonUpdate(buf: Uint8Array): ScannedUpdate | undefined {
  const n = buf.length;
  if (n < JSON_PREFIX.length + 16 || !startsWithBytes(buf, JSON_PREFIX, 0)) return undefined;
  const topicStart = JSON_PREFIX.length;
  let at = topicStart;
  while (at < n && buf[at] !== QUOTE) {
    if (buf[at] === BACKSLASH) return undefined;
    at++;
  }
  if (!startsWithBytes(buf, JSON_SEQ, at)) return undefined;
  const topicEnd = at;
  at += JSON_SEQ.length;
  let seq = 0;
  const digitsStart = at;
  for (let c = buf[at]; c >= 0x30 && c <= 0x39; c = buf[++at]) seq = seq * 10 + (c - 0x30);
  if (at === digitsStart || at - digitsStart > 16 || buf[at] !== COMMA) return undefined;
  // ts is the last key: `,"ts":<number>}` at the very end.
  if (buf[n - 1] !== CLOSE_BRACE) return undefined;
  let colon = n - 2;
  while (colon >= 0 && buf[colon] !== COLON) colon--;
  if (colon < at || colon + 1 >= n - 1 || !startsWithBytes(buf, JSON_TS, colon - JSON_TS.length)) return undefined;
  const ts = Number(latin1(buf, colon + 1, n - 1));
  if (!Number.isFinite(ts)) return undefined;
  result.topic = text(buf, topicStart, topicEnd);
  result.seq = seq;
  result.ts = ts;
  return result;
}

const MP_FIXMAP_5 = 0x85;
const MP_MAP16 = 0xde;
const MP_PREFIX = Uint8Array.from([0xa2, 0x6f, 0x70, 0xa6, 0x75, 0x70, 0x64, 0x61, 0x74, 0x65, 0xa5, 0x74, 0x6f, 0x70, 0x69, 0x63]); // op:'update',topic:
const MP_SEQ = Uint8Array.from([0xa3, 0x73, 0x65, 0x71]); // 'seq'
const MP_DATA = Uint8Array.from([0xa4, 0x64, 0x61, 0x74, 0x61]); // 'data'
const MP_TS = Uint8Array.from([0xa2, 0x74, 0x73]); // 'ts'

/**
 * msgpack {op:'update', topic, seq, data, ts} (a 5-entry map, keys in that order; msgpackr writes
 * a map16 header even for 5 entries) → {topic, seq, ts}.
 */
export function scanMsgpackUpdate(buf: Uint8Array): ScannedUpdate | undefined {
  const n = buf.length;
  const mapHeader = buf[0] === MP_FIXMAP_5 ? 1 : buf[0] === MP_MAP16 && buf[1] === 0 && buf[2] === 5 ? 3 : 0;
  if (mapHeader === 0 || n < mapHeader + MP_PREFIX.length + 16 || !startsWithBytes(buf, MP_PREFIX, mapHeader)) return undefined;
  let at = mapHeader + MP_PREFIX.length;
  const t = buf[at];
  let topicLength: number;
  if ((t & 0xe0) === 0xa0) {
    topicLength = t & 0x1f;
    at += 1;
  } else if (t === 0xd9 && at + 1 < n) {
    topicLength = buf[at + 1];
    at += 2;
  } else return undefined;
  const topicStart = at;
  at += topicLength;
  if (at + MP_SEQ.length >= n || !startsWithBytes(buf, MP_SEQ, at)) return undefined;
  at += MP_SEQ.length;
  const seq = readMsgpackNumber(buf, at);
  if (seq === undefined || !Number.isInteger(seq)) return undefined;
  at += msgpackNumberBytes(buf[at]);
  if (!startsWithBytes(buf, MP_DATA, at)) return undefined;
  const ts = readTrailingTs(buf);
  if (ts === undefined) return undefined;
  result.topic = text(buf, topicStart, topicStart + topicLength);
  result.seq = seq;
  result.ts = ts;
  return result;
}

/** The number after the final 'ts' key of a msgpack map: float64 (fractional ms) or an unsigned int. */
export function readTrailingTs(buf: Uint8Array): number | undefined {
  const n = buf.length;
  for (const [marker, bytes] of TS_FORMATS) {
    const at = n - bytes;
    if (buf[at] === marker && startsWithBytes(buf, MP_TS, at - MP_TS.length)) return readMsgpackNumber(buf, at);
  }
  return undefined;
}

/** Marker byte and encoded size of the formats a ts comes in, longest first. */
const TS_FORMATS: Array<[number, number]> = [
  [0xcb, 9],
  [0xcf, 9],
  [0xce, 5],
  [0xcd, 3],
];

/**
 * A msgpack non-negative number at `at`: positive fixint, uint8/16/32/64, or float64 (msgpackr
 * writes integers beyond 32 bits as float64); undefined for anything else.
 */
export function readMsgpackNumber(buf: Uint8Array, at: number): number | undefined {
  const m = buf[at];
  if (at + msgpackNumberBytes(m) > buf.length) return undefined;
  if (m < 0x80) return m;
  if (m === 0xcc) return buf[at + 1];
  if (m === 0xcd) return (buf[at + 1] << 8) | buf[at + 2];
  if (m === 0xce) return uint32(buf, at + 1);
  // hi × 2^32 is exact, so the sum rounds once, as Number(BigInt) would.
  if (m === 0xcf) return uint32(buf, at + 1) * 0x1_0000_0000 + uint32(buf, at + 5);
  if (m === 0xcb) {
    for (let i = 0; i < 8; i++) FLOAT_BYTES[i] = buf[at + 1 + i];
    return FLOAT_VIEW.getFloat64(0);
  }
  return undefined;
}

/** Scratch for float64 reads: a view over the caller's bytes would be an allocation per read. */
const FLOAT_BYTES = new Uint8Array(8);
const FLOAT_VIEW = new DataView(FLOAT_BYTES.buffer);

function uint32(buf: Uint8Array, at: number): number {
  return ((buf[at] << 24) >>> 0) + ((buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]);
}

/** Bytes of a msgpack number (marker included) by its marker. */
export function msgpackNumberBytes(marker: number): number {
  return marker < 0x80 ? 1 : marker === 0xcc ? 2 : marker === 0xcd ? 3 : marker === 0xce ? 5 : 9;
}

export function startsWithBytes(buf: Uint8Array, prefix: Uint8Array, at: number): boolean {
  if (at < 0 || at + prefix.length > buf.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

/** UTF-8 text of buf[start, end); ASCII (every topic the loadgen makes) without a TextDecoder call. */
function text(buf: Uint8Array, start: number, end: number): string {
  for (let i = start; i < end; i++) if (buf[i] >= 0x80) return utf8.decode(buf.subarray(start, end));
  return latin1(buf, start, end);
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  // One call over the bytes (a typed array serves as the argument list): no string per byte.
  return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
}
