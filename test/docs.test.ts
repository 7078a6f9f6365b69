import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ENV_VARS } from "../src/config.ts";
import { ERRORS } from "../src/lib/errors.ts";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const errorsDoc = readFileSync(new URL("../docs/errors.md", import.meta.url), "utf8");

describe("documentation stays in step with the code", () => {
  it("lists every error code with its status in docs/errors.md, and nothing else", () => {
    const documented = [...errorsDoc.matchAll(/^\| `(\w+)` \| (\d+) \|/gm)].map((m) => [m[1], Number(m[2])]);
    const catalogue = Object.entries(ERRORS).map(([code, e]) => [code, e.status]);
    expect(documented).toEqual(catalogue);
  });

  it("documents every environment variable in the README table, and nothing else", () => {
    const table = readme.slice(readme.indexOf("## Environment variables"), readme.indexOf("## Running against Base Sepolia"));
    const documented = new Set([...table.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1] ?? "").filter((name) => !name.startsWith("AGENT_") && name !== "TOLLGATE_URL"));
    expect([...documented].sort()).toEqual([...ENV_VARS].sort());
  });

  it("names the test command that .ci/run runs", () => {
    const ci = readFileSync(new URL("../.ci/run", import.meta.url), "utf8");
    expect(readme).toMatch(/^npm test\b/m);
    expect(ci).toMatch(/^npm test$/m);
  });
});
