/**
 * JSON with every object's keys sorted (UTF-16 code unit order, as `<` compares strings) and no
 * whitespace, so key order and formatting do not change a body's hash (quote.ts bodyHash). For
 * the values JSON.parse produces; an undefined property is left out, an undefined array item is
 * written `null`.
 *
 * A request body of up to MAX_BODY_BYTES arrives here before anyone has paid, so the cost must
 * stay linear in its size whatever its shape, and nothing here may recurse on it: the recursive
 * version this replaces overflowed the stack on a body nested 5,000 deep and copied each level's
 * text into its parent, once per level (issue 11). Two ways, same text (canonical-json.test.ts):
 *
 * - usually, JSON.stringify with the body's own keys, sorted, as its property list: the list
 *   fixes the order of every object's keys, and V8 writes the rest natively, 3-5x faster than a
 *   walk in JavaScript. The list is scanned for every object, so this way is taken only while
 *   keys x objects stays under LIST_LOOKUPS, and only for values shallower than STRINGIFY_DEPTH
 *   (JSON.stringify recurses);
 * - otherwise a walk over an explicit stack (writeByWalk), linear in any case.
 */
export function canonicalJson(value: unknown): string {
  const keys = new Set<string>();
  let objects = 0;
  const stack: unknown[] = [value];
  const depths: number[] = [0];
  while (stack.length > 0) {
    const item = stack.pop();
    const depth = depths.pop() ?? 0;
    if (item === null || typeof item !== "object") continue;
    if (depth > STRINGIFY_DEPTH) return writeByWalk(value);
    if (Array.isArray(item)) {
      for (const child of item) {
        if (child !== null && typeof child === "object") {
          stack.push(child);
          depths.push(depth + 1);
        }
      }
      continue;
    }
    objects++;
    const record = item as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      keys.add(key);
      const child = record[key];
      if (child !== null && typeof child === "object") {
        stack.push(child);
        depths.push(depth + 1);
      }
    }
    if (keys.size * objects > LIST_LOOKUPS) return writeByWalk(value);
  }
  // JSON.stringify reads listed keys with Get, prototype included: every object "has" __proto__.
  if (keys.has("__proto__")) return writeByWalk(value);
  return JSON.stringify(value, [...keys].sort()) ?? "null";
}

/** Most property-list lookups JSON.stringify may make (distinct keys x objects): ~20 ms. */
const LIST_LOOKUPS = 4_000_000;
/** Deepest value handed to JSON.stringify, whose recursion overflows some thousands deep. */
const STRINGIFY_DEPTH = 256;

/** canonicalJson by a walk over an explicit stack; exported so the tests can hold both ways to the same text. */
export function writeByWalk(value: unknown): string {
  let out = "";
  // The arrays and objects being written, innermost last: their values, sorted keys (objects) and next index.
  const items: unknown[] = [];
  const keysOf: Array<string[] | undefined> = [];
  const nexts: number[] = [];
  const write = (item: unknown): void => {
    if (Array.isArray(item)) {
      out += "[";
      items.push(item);
      keysOf.push(undefined);
      nexts.push(0);
    } else if (item !== null && typeof item === "object") {
      out += "{";
      items.push(item);
      keysOf.push(sortedKeys(item as Record<string, unknown>));
      nexts.push(0);
    } else {
      out += JSON.stringify(item) ?? "null";
    }
  };

  write(value);
  while (items.length > 0) {
    const top = items.length - 1;
    const at = nexts[top] ?? 0;
    nexts[top] = at + 1;
    const keys = keysOf[top];
    const item = items[top];
    if (keys === undefined) {
      const array = item as unknown[];
      if (at === array.length) {
        out += "]";
        items.pop();
        keysOf.pop();
        nexts.pop();
        continue;
      }
      if (at > 0) out += ",";
      write(array[at]);
    } else {
      const key = keys[at];
      if (key === undefined) {
        out += "}";
        items.pop();
        keysOf.pop();
        nexts.pop();
        continue;
      }
      out += (at > 0 ? "," : "") + JSON.stringify(key) + ":";
      write((item as Record<string, unknown>)[key]);
    }
  }
  return out;
}

/** The keys of `record` whose value is not undefined, sorted. */
function sortedKeys(record: Record<string, unknown>): string[] {
  return Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
}
