// Whether a value a processor writes can be stored and read back as it is: the store's encoder
// meets it only inside the batch's commit, where a failure would take every event of the batch
// with it. Checked per write while the event is applied, a bad value costs only its own event
// (answered `internal`): plain objects and arrays of strings, numbers, booleans and null, nested
// a bounded depth (which also stops cycles); an undefined property or item is left out / nil.

const MAX_STORED_DEPTH = 32;

/** A description of the first thing in `value` that cannot be stored, or null. */
export function unstorable(value: unknown, depth = 0): string | null {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return null;
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_STORED_DEPTH) return `nested deeper than ${MAX_STORED_DEPTH} levels (a cycle?)`;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          // Scalars inline: most arrays in state are lists of numbers or ids. A hole or an
          // undefined item is stored as nil.
          if (typeof v === 'number' || typeof v === 'string' || v === undefined) continue;
          const problem = unstorable(v, depth + 1);
          if (problem) return problem;
        }
        return null;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return `an instance of ${(proto as { constructor?: { name?: string } }).constructor?.name ?? 'a class'}`;
      for (const key in value) {
        const v = (value as Record<string, unknown>)[key];
        // An undefined property is simply not written.
        if (typeof v === 'number' || typeof v === 'string' || v === undefined) continue;
        const problem = unstorable(v, depth + 1);
        if (problem) return problem;
      }
      return null;
    }
    default:
      // undefined inside a value, bigint, symbol, function
      return `a ${typeof value}`;
  }
}
