// A msgpack decoder for what clients send: only what an event or an op can be — maps with
// string keys, arrays, strings, finite numbers, booleans and nil. A general decoder (msgpackr's
// unpack) also builds BigInts, extension types, records, binaries and self-referencing
// structures; any of those reaching the store's encoder could stop the server. Here they are
// refused, strings must be valid UTF-8 (never decoded with replacement characters, which would
// make two different ids one), nesting is bounded, and no declared length is believed beyond the
// bytes that are actually there, so nothing allocates more than the body's own size.

export const MAX_WIRE_DEPTH = 10;
/**
 * Items in one array (a body holds at most 10,000 events; more is refused 413 after decoding)
 * and entries in one map (no event has more than a few dozen fields or map entries): larger
 * ones are refused before they are built.
 */
export const MAX_WIRE_ARRAY = 100_000;
export const MAX_WIRE_MAP = 1_000;

export class WireError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeStrictMsgpack(bytes: Uint8Array): unknown {
  const r = new Reader(bytes);
  const value = r.value(0);
  if (r.pos !== bytes.length) throw new WireError(`${bytes.length - r.pos} bytes after the value`);
  return value;
}

class Reader {
  pos = 0;
  private readonly view: DataView;
  /** The same bytes as a Buffer: its latin1 decoding makes flat strings in one native call. */
  private readonly buf: Buffer;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new WireError('truncated');
  }

  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }

  private u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  value(depth: number): unknown {
    const b = this.u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b <= 0x8f) return this.map(b & 0x0f, depth);
    if (b <= 0x9f) return this.array(b & 0x0f, depth);
    if (b <= 0xbf) return this.str(b & 0x1f);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xca: {
        this.need(4);
        const v = this.view.getFloat32(this.pos);
        this.pos += 4;
        return this.finite(v);
      }
      case 0xcb: {
        this.need(8);
        const v = this.view.getFloat64(this.pos);
        this.pos += 8;
        return this.finite(v);
      }
      case 0xcc:
        return this.u8();
      case 0xcd:
        return this.u16();
      case 0xce:
        return this.u32();
      case 0xcf:
        return this.int64(false);
      case 0xd0:
        return (this.u8() << 24) >> 24;
      case 0xd1:
        return (this.u16() << 16) >> 16;
      case 0xd2:
        return this.u32() | 0;
      case 0xd3:
        return this.int64(true);
      case 0xd9:
        return this.str(this.u8());
      case 0xda:
        return this.str(this.u16());
      case 0xdb:
        return this.str(this.u32());
      case 0xdc:
        return this.array(this.u16(), depth);
      case 0xdd:
        return this.array(this.u32(), depth);
      case 0xde:
        return this.map(this.u16(), depth);
      case 0xdf:
        return this.map(this.u32(), depth);
      default:
        // 0xc1 (never used), bin 0xc4–0xc6, ext 0xc7–0xc9 and fixext 0xd4–0xd8.
        throw new WireError(`type byte 0x${b.toString(16)} is not accepted (only maps, arrays, strings, numbers, booleans, nil)`);
    }
  }

  private finite(v: number): number {
    if (!Number.isFinite(v)) throw new WireError('numbers must be finite');
    return v;
  }

  /** 64-bit integers only within ±2^53: beyond, a number would silently lose digits. */
  private int64(signed: boolean): number {
    this.need(8);
    const hi = signed ? this.view.getInt32(this.pos) : this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    const v = hi * 0x1_0000_0000 + lo;
    if (!Number.isSafeInteger(v)) throw new WireError('integers must be within ±(2^53 − 1)');
    return v;
  }

  private str(len: number): string {
    this.need(len);
    const start = this.pos;
    this.pos += len;
    if (len < 32) {
      const s = cachedAscii(this.bytes, this.buf, start, this.pos);
      if (s !== undefined) return s;
    }
    try {
      return utf8.decode(this.bytes.subarray(start, this.pos));
    } catch {
      throw new WireError('strings must be valid UTF-8');
    }
  }

  private array(n: number, depth: number): unknown[] {
    if (depth >= MAX_WIRE_DEPTH) throw new WireError(`nested deeper than ${MAX_WIRE_DEPTH} levels`);
    if (n > MAX_WIRE_ARRAY) throw new WireError(`an array of more than ${MAX_WIRE_ARRAY} items`);
    // Every element takes at least one byte: a larger count is a lie about the body.
    this.need(n);
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  private map(n: number, depth: number): Record<string, unknown> {
    if (depth >= MAX_WIRE_DEPTH) throw new WireError(`nested deeper than ${MAX_WIRE_DEPTH} levels`);
    if (n > MAX_WIRE_MAP) throw new WireError(`a map of more than ${MAX_WIRE_MAP} entries`);
    this.need(2 * n);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const key = this.value(depth + 1);
      if (typeof key !== 'string') throw new WireError('map keys must be strings');
      const v = this.value(depth + 1);
      // As JSON.parse does: an own property, never the object's prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
    }
    return out;
  }
}

/**
 * Short ASCII strings seen before (keys, types, locations repeat in every event of a body): a
 * slot per hash, checked byte by byte, so a hit allocates nothing. A miss is decoded in one
 * native call (a flat string: one built a character at a time would be a chain that every
 * later use as a key has to flatten). Undefined when the bytes are not all ASCII.
 */
const ASCII_CACHE: Array<string | undefined> = new Array(4096);

function cachedAscii(b: Uint8Array, buf: Buffer, start: number, end: number): string | undefined {
  let h = end - start;
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c >= 0x80) return undefined;
    h = Math.imul(h ^ c, 0x01000193);
  }
  const slot = (h ^ (h >>> 12)) & 4095;
  const cached = ASCII_CACHE[slot];
  if (cached !== undefined && cached.length === end - start) {
    let same = true;
    for (let i = 0; i < cached.length; i++) {
      if (cached.charCodeAt(i) !== b[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return cached;
  }
  const s = buf.toString('latin1', start, end);
  ASCII_CACHE[slot] = s;
  return s;
}
