/**
 * A deterministic JSON value that a JSON Schema accepts, for the simulator's tool-call arguments
 * and `json_schema` replies. It covers the parts of JSON Schema (draft 2020-12) that function
 * parameters use in practice: `type` (one or several), `enum`, `const`, `properties` with
 * `required`, `items`, `minItems`, `minimum` / `maximum`, `minLength` / `maxLength`, common string
 * `format`s, `anyOf` / `oneOf` / `allOf` (the first branch, or the merged objects), local `$ref`s
 * (`#/$defs/...`, `#/definitions/...`) and `default`. A `pattern` is not honoured.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, unknown>;

export interface SampleOptions {
  /** Text to fill free strings with (the simulator passes the agent's last message). */
  text: string;
}

/** Deep enough for any real parameter schema; a recursive `$ref` stops here instead of looping. */
const MAX_DEPTH = 8;

const FORMATS: Record<string, string> = {
  "date-time": "2025-01-01T00:00:00Z",
  date: "2025-01-01",
  time: "00:00:00Z",
  email: "agent@example.com",
  uri: "https://example.com/",
  url: "https://example.com/",
  uuid: "00000000-0000-4000-8000-000000000000",
  ipv4: "192.0.2.1",
  ipv6: "2001:db8::1",
  hostname: "example.com",
};

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isJson(value: unknown): value is Json {
  try {
    return JSON.stringify(value) !== undefined;
  } catch {
    return false;
  }
}

export function sampleJson(schema: unknown, options: SampleOptions): Json {
  const root = isSchema(schema) ? schema : {};

  function resolve(node: Schema): Schema {
    const ref = node["$ref"];
    if (typeof ref !== "string") return node;
    const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
    const defs = match === null ? undefined : root[match[1] ?? ""];
    const target = isSchema(defs) ? defs[decodeURIComponent(match?.[2] ?? "")] : undefined;
    return isSchema(target) ? target : {};
  }

  function typeOf(node: Schema): string {
    const type = node["type"];
    const types = Array.isArray(type) ? type.filter((t): t is string => typeof t === "string") : typeof type === "string" ? [type] : [];
    // ["string", "null"]: the value is more useful than the null.
    const chosen = types.find((t) => t !== "null") ?? types[0];
    if (chosen !== undefined) return chosen;
    if (isSchema(node["properties"])) return "object";
    if (node["items"] !== undefined) return "array";
    return "string";
  }

  function str(node: Schema): string {
    const format = typeof node["format"] === "string" ? FORMATS[node["format"]] : undefined;
    let value = format ?? (options.text.trim().slice(0, 64) || "simulated");
    const min = typeof node["minLength"] === "number" ? node["minLength"] : 0;
    const max = typeof node["maxLength"] === "number" ? node["maxLength"] : Infinity;
    if (value.length < min) value = value.padEnd(min, ".");
    return value.slice(0, Math.max(max, 0));
  }

  function num(node: Schema, integer: boolean): number {
    const min = typeof node["minimum"] === "number" ? node["minimum"] : typeof node["exclusiveMinimum"] === "number" ? node["exclusiveMinimum"] + 1 : undefined;
    const max = typeof node["maximum"] === "number" ? node["maximum"] : typeof node["exclusiveMaximum"] === "number" ? node["exclusiveMaximum"] - 1 : undefined;
    let value = min ?? Math.min(1, max ?? 1);
    if (integer) value = Math.ceil(value);
    return value;
  }

  function merged(branches: Schema[]): Schema {
    const properties: Schema = {};
    const required: unknown[] = [];
    for (const branch of branches) {
      if (isSchema(branch["properties"])) Object.assign(properties, branch["properties"]);
      if (Array.isArray(branch["required"])) required.push(...branch["required"]);
    }
    return { type: "object", properties, required };
  }

  function sample(input: unknown, depth: number): Json {
    if (!isSchema(input) || depth > MAX_DEPTH) return null;
    const node = resolve(input);
    if ("const" in node && isJson(node["const"])) return node["const"];
    if (Array.isArray(node["enum"]) && node["enum"].length > 0 && isJson(node["enum"][0])) return node["enum"][0];
    if ("default" in node && isJson(node["default"])) return node["default"];
    for (const key of ["anyOf", "oneOf"]) {
      const branches = node[key];
      if (Array.isArray(branches) && branches.length > 0) {
        // Prefer a branch that is not just `null` (the optional-field idiom).
        const useful = branches.find((b) => !(isSchema(b) && b["type"] === "null")) ?? branches[0];
        return sample(useful, depth + 1);
      }
    }
    if (Array.isArray(node["allOf"])) return sample({ ...merged(node["allOf"].filter(isSchema).map(resolve)), ...node, allOf: undefined }, depth + 1);

    switch (typeOf(node)) {
      case "object": {
        const properties = isSchema(node["properties"]) ? node["properties"] : {};
        const required = Array.isArray(node["required"]) ? node["required"].filter((k): k is string => typeof k === "string") : Object.keys(properties);
        const out: { [key: string]: Json } = {};
        // Required fields always; optional ones too when the schema names no required ones.
        for (const key of required) out[key] = sample(properties[key] ?? {}, depth + 1);
        return out;
      }
      case "array": {
        const count = Math.max(1, typeof node["minItems"] === "number" ? node["minItems"] : 1);
        const limit = typeof node["maxItems"] === "number" ? Math.min(count, node["maxItems"]) : count;
        const items = Array.isArray(node["prefixItems"]) ? node["prefixItems"] : undefined;
        if (items !== undefined) return items.map((item) => sample(item, depth + 1));
        return Array.from({ length: limit }, () => sample(node["items"] ?? {}, depth + 1));
      }
      case "integer":
        return num(node, true);
      case "number":
        return num(node, false);
      case "boolean":
        return true;
      case "null":
        return null;
      default:
        return str(node);
    }
  }

  return sample(root, 0);
}
