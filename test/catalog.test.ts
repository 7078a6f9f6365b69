import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CatalogIndex } from "../src/catalog/index.ts";
import { DEFAULT_CATALOG_PATH, loadCatalog } from "../src/catalog/load.ts";
import { usdToAtomic } from "../src/lib/money.ts";

const dir = mkdtempSync(join(tmpdir(), "tollgate-catalog-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeCatalog(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

function defaultJson(): { version: number; models: Array<Record<string, unknown>> } {
  return JSON.parse(readFileSync(DEFAULT_CATALOG_PATH, "utf8"));
}

describe("default catalog", () => {
  const catalog = loadCatalog();

  it("parses, with at least 8 models from at least 4 providers", () => {
    expect(catalog.models.length).toBeGreaterThanOrEqual(8);
    expect(new Set(catalog.models.map((m) => m.provider)).size).toBeGreaterThanOrEqual(4);
  });

  it("has unique model ids", () => {
    const ids = catalog.models.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("dates every price and cites the provider's pricing page", () => {
    for (const model of catalog.models) {
      expect(model.pricing.source, model.id).toMatch(/^https:\/\//);
      expect(Date.parse(model.pricing.asOf), model.id).toBeLessThanOrEqual(Date.now());
    }
  });

  it("keeps every model's limits and cache discount coherent", () => {
    for (const { entry, rates } of new CatalogIndex(catalog).models()) {
      expect(entry.maxOutputTokens, entry.id).toBeLessThanOrEqual(entry.contextWindow);
      expect(rates.cachedInputPerMTok, entry.id).toBeLessThanOrEqual(rates.inputPerMTok);
      expect(rates.inputPerMTok, entry.id).toBeGreaterThan(0n);
    }
  });
});

describe("default catalog: what GET /v1/models and the simulator read", () => {
  const catalog = loadCatalog();

  it("dates every model's release, no later than its price", () => {
    for (const model of catalog.models) {
      expect(model.released, model.id).toMatch(/^20\d\d-\d\d-\d\d$/);
      expect(Date.parse(model.released ?? ""), model.id).toBeLessThanOrEqual(Date.parse(model.pricing.asOf));
    }
  });

  it("gives every embedding model its native dimension (text-embedding-3-small 1536, -large 3072), and no chat model one", () => {
    const dims = Object.fromEntries(catalog.models.filter((m) => m.kind === "embedding").map((m) => [m.id, m.dimensions]));
    expect(dims).toEqual({ "text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "mistral-embed": 1024 });
    const chat = defaultJson().models.find((m) => m["id"] === "gpt-4o-mini");
    const path = writeCatalog("chat-dims.json", { version: 1, models: [{ ...chat, dimensions: 8 }] });
    expect(() => loadCatalog(path)).toThrow(/models\[0\]\.dimensions: only embedding models have dimensions/);
  });
});

describe("CatalogIndex", () => {
  const index = new CatalogIndex(loadCatalog());

  it("looks models up by id with their rates as atomic USDC per 1M tokens", () => {
    expect(index.get("gpt-4o-mini")?.entry.provider).toBe("openai");
    expect(index.rates("gpt-4o-mini")).toEqual({ inputPerMTok: 150_000n, outputPerMTok: 600_000n, cachedInputPerMTok: 75_000n });
    expect(index.get("no-such-model")).toBeUndefined();
    expect(index.has("no-such-model")).toBe(false);
    expect(() => index.rates("no-such-model")).toThrow(/no-such-model/);
  });

  it("bills cached input at the full input rate when the provider publishes no discount", () => {
    const entry = index.list().find((m) => m.pricing.cachedInputPerMTok === undefined);
    expect(entry).toBeDefined();
    if (entry === undefined) return;
    expect(index.rates(entry.id).cachedInputPerMTok).toBe(usdToAtomic(entry.pricing.inputPerMTok));
  });

  it("lists models and providers in catalog order", () => {
    expect(index.list().map((m) => m.id)).toEqual(loadCatalog().models.map((m) => m.id));
    expect(index.models().map((m) => m.entry)).toEqual(index.list());
    expect(index.providers()[0]).toBe(index.list()[0]?.provider);
  });
});

describe("loadCatalog with a CATALOG file", () => {
  it("loads a valid file", () => {
    const path = writeCatalog("valid.json", defaultJson());
    expect(loadCatalog(path).models.length).toBe(loadCatalog().models.length);
  });

  it("names the file and the field of an invalid price", () => {
    const json = defaultJson();
    const first = json.models[0];
    if (first === undefined) throw new Error("empty default catalog");
    first.pricing = { ...(first.pricing as object), inputPerMTok: "cheap" };
    const path = writeCatalog("bad-price.json", json);
    expect(() => loadCatalog(path)).toThrow(path);
    expect(() => loadCatalog(path)).toThrow("models[0].pricing.inputPerMTok");
  });

  it("names the file and the field of a missing limit", () => {
    const json = defaultJson();
    delete json.models[2]?.contextWindow;
    const path = writeCatalog("missing-field.json", json);
    expect(() => loadCatalog(path)).toThrow(/missing-field\.json.*models\[2\]\.contextWindow/);
  });

  it("refuses duplicate model ids", () => {
    const json = defaultJson();
    json.models.push({ ...json.models[0] });
    const path = writeCatalog("duplicate.json", json);
    expect(() => loadCatalog(path)).toThrow(/duplicate\.json.*models: model ids must be unique/);
  });

  it("names the file when it is not JSON or does not exist", () => {
    const broken = writeCatalog("broken.json", "{ not json");
    expect(() => loadCatalog(broken)).toThrow(/broken\.json is not valid JSON/);
    const missing = join(dir, "absent.json");
    expect(() => loadCatalog(missing)).toThrow(missing);
  });
});
