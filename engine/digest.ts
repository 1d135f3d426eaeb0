// The digest of an event, taken while it is built (validate.ts mixes in every value it copies,
// after its field's name as a hash): a 53-bit hash with cyrb53's mixing. Built events
// hold their fields in the schema's order and maps sorted, so two sendings of the same event
// hash alike whatever the order of their keys on the wire. One digest at a time: building is
// synchronous.

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
/** The two lanes, in a typed array: module-level `let`s cost a hole check on every access. */
const H = new Int32Array(2);

export function mix(c: number): void {
  H[0] = Math.imul(H[0] ^ c, 2654435761);
  H[1] = Math.imul(H[1] ^ c, 1597334677);
}

/** Two UTF-16 units a step: half the multiplications of one a step. */
export function mixString(s: string): void {
  const n = s.length;
  mix(0x73 + n * 0x100);
  let i = 0;
  for (; i + 1 < n; i += 2) mix(s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
  if (i < n) mix(s.charCodeAt(i));
}

export function mixNumber(v: number): void {
  if ((v | 0) === v) {
    mix(0x6e);
    mix(v);
    return;
  }
  F64[0] = v;
  mix(0x66);
  mix(U32[0]);
  mix(U32[1]);
}

export function startDigest(): void {
  H[0] = 0xdeadbeef;
  H[1] = 0x41c6ce57;
}

/** A number in [1, 2^53) naming what was mixed since startDigest. */
export function endDigest(): number {
  let h1 = H[0];
  let h2 = H[1];
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0) || 1;
}
