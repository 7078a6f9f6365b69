import { z } from "zod";

/**
 * JSON Schema (what OpenAI tools and response formats carry) -> the Gemini API's `Schema`
 * (https://ai.google.dev/api/caching#Schema), a subset of the OpenAPI 3.0 schema object with
 * upper-case type names and `nullable` instead of a "null" type. Only schemas that use nothing
 * outside the shared subset are converted; anything else (`$ref`, `oneOf`, `additionalProperties`
 * schemas, patterns, ...) answers undefined, and the caller falls back to something that keeps
 * the meaning rather than convert it approximately.
 */

export type GeminiSchema = { [key: string]: unknown };

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: "STRING",
  number: "NUMBER",
  integer: "INTEGER",
  boolean: "BOOLEAN",
  array: "ARRAY",
  object: "OBJECT",
};

/** The formats the Schema reference lists. */
const FORMATS = new Set(["enum", "date-time", "int32", "int64", "float", "double"]);

/** Keywords that mean the same in both, copied as they are once their value checks out. */
const SAME_MEANING = new Set(["description", "title", "minItems", "maxItems", "minimum", "maximum"]);

const JsonObject = z.record(z.string(), z.unknown());
const Strings = z.array(z.string());

/**
 * The type of a JSON Schema `type` value: one type name, or [name, "null"] in either order,
 * which Gemini spells `nullable: true`.
 */
function typeOf(value: unknown): { type: string; nullable: boolean } | undefined {
  if (typeof value === "string") return TYPE_NAMES[value] === undefined ? undefined : { type: value, nullable: false };
  const names = Strings.safeParse(value);
  if (!names.success || names.data.length !== 2 || !names.data.includes("null")) return undefined;
  const type = names.data.find((n) => n !== "null");
  return type === undefined || TYPE_NAMES[type] === undefined ? undefined : { type, nullable: true };
}

export function toGeminiSchema(schema: unknown): GeminiSchema | undefined {
  const parsed = JsonObject.safeParse(schema);
  if (!parsed.success) return undefined;
  const source = parsed.data;
  const type = typeOf(source.type);
  if (type === undefined) return undefined;
  const out: GeminiSchema = { type: TYPE_NAMES[type.type] };
  if (type.nullable) out.nullable = true;

  for (const [key, value] of Object.entries(source)) {
    if (key === "type") continue;
    if (SAME_MEANING.has(key)) {
      if (typeof value !== (key === "description" || key === "title" ? "string" : "number")) return undefined;
      out[key] = value;
    } else if (key === "nullable" && typeof value === "boolean") {
      out.nullable = value || type.nullable;
    } else if (key === "format" && typeof value === "string" && FORMATS.has(value)) {
      out.format = value;
    } else if (key === "enum" && type.type === "string") {
      // Gemini enums are string-only; a JSON "null" member is the nullable flag there.
      const members = z.array(z.union([z.string(), z.null()])).safeParse(value);
      if (!members.success) return undefined;
      out.enum = members.data.filter((m) => m !== null);
      if (members.data.includes(null)) out.nullable = true;
    } else if (key === "items" && type.type === "array") {
      const items = toGeminiSchema(value);
      if (items === undefined) return undefined;
      out.items = items;
    } else if (key === "properties" && type.type === "object") {
      const properties = JsonObject.safeParse(value);
      if (!properties.success) return undefined;
      const converted: Record<string, GeminiSchema> = {};
      for (const [name, property] of Object.entries(properties.data)) {
        const inner = toGeminiSchema(property);
        if (inner === undefined) return undefined;
        converted[name] = inner;
      }
      out.properties = converted;
    } else if (key === "required" && type.type === "object") {
      const required = Strings.safeParse(value);
      if (!required.success) return undefined;
      out.required = required.data;
    } else if (key === "additionalProperties" && value === false) {
      // OpenAI's strict mode insists on it; the Schema subset has no such keyword. Dropping it
      // only loosens the schema, and the model still fills the object from `properties`.
    } else if (key === "$schema") {
      // A dialect marker, not a constraint.
    } else {
      return undefined;
    }
  }
  // Gemini refuses an OBJECT schema without properties; such a schema is not in the subset.
  if (type.type === "object" && Object.keys(JsonObject.safeParse(out.properties).data ?? {}).length === 0) return undefined;
  return out;
}
