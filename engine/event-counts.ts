// Events answered, by type and result (`ok` or the error code), for /metrics. Nested maps so a
// count costs two lookups and no string building on the hot path; the flat `type|result` keys
// are built only when stats are read (a scrape).

export class EventCounts {
  readonly #counts = new Map<string, Map<string, number>>();

  count(type: string, result: string): void {
    let byResult = this.#counts.get(type);
    if (!byResult) this.#counts.set(type, (byResult = new Map()));
    byResult.set(result, (byResult.get(result) ?? 0) + 1);
  }

  /** `type|result` → events. */
  byTypeAndResult(): Map<string, number> {
    const flat = new Map<string, number>();
    for (const [type, byResult] of this.#counts) {
      for (const [result, n] of byResult) flat.set(`${type}|${result}`, n);
    }
    return flat;
  }
}
