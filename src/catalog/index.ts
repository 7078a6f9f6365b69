import { usdToAtomic, type AtomicPerMTok } from "../lib/money.ts";
import type { Catalog, ModelEntry } from "./schema.ts";

/** A model's list prices in atomic USDC per 1M tokens, converted once when the catalog loads. */
export interface ModelRates {
  readonly inputPerMTok: AtomicPerMTok;
  readonly outputPerMTok: AtomicPerMTok;
  /** Equals `inputPerMTok` when the provider publishes no cache discount. */
  readonly cachedInputPerMTok: AtomicPerMTok;
}

/** A catalog entry with its rates precomputed. */
export interface IndexedModel {
  readonly entry: ModelEntry;
  readonly rates: ModelRates;
}

function ratesOf(entry: ModelEntry): ModelRates {
  const inputPerMTok = usdToAtomic(entry.pricing.inputPerMTok);
  return Object.freeze({
    inputPerMTok,
    outputPerMTok: usdToAtomic(entry.pricing.outputPerMTok),
    cachedInputPerMTok:
      entry.pricing.cachedInputPerMTok === undefined ? inputPerMTok : usdToAtomic(entry.pricing.cachedInputPerMTok),
  });
}

/** Read-only lookups over a parsed catalog, so pricing and routing never re-parse price strings. */
export class CatalogIndex {
  readonly #byId: ReadonlyMap<string, IndexedModel>;
  readonly #models: readonly IndexedModel[];
  readonly #entries: readonly ModelEntry[];
  readonly #withheld: ReadonlyMap<string, ModelEntry>;

  /** `withheld`: catalog models this gateway does not offer (see `offering`). */
  constructor(catalog: Catalog, withheld: readonly ModelEntry[] = []) {
    const byId = new Map<string, IndexedModel>();
    for (const entry of catalog.models) {
      // Catalog.parse already refuses duplicates; this guards catalogs built in code.
      if (byId.has(entry.id)) throw new Error(`duplicate model id in catalog: ${entry.id}`);
      byId.set(entry.id, Object.freeze({ entry, rates: ratesOf(entry) }));
    }
    this.#byId = byId;
    this.#models = Object.freeze([...byId.values()]);
    this.#entries = Object.freeze(this.#models.map((m) => m.entry));
    this.#withheld = new Map(withheld.filter((m) => !byId.has(m.id)).map((m) => [m.id, m]));
  }

  /**
   * The same catalog offering only the models `keep` accepts (off the devnet: those whose
   * provider is configured). Everything that lists, routes or prices sees only those; the others
   * are remembered as withheld, so a request naming one learns why it is refused.
   */
  offering(keep: (entry: ModelEntry) => boolean): CatalogIndex {
    const dropped = this.#entries.filter((m) => !keep(m));
    return new CatalogIndex({ version: 1, models: this.#entries.filter(keep) }, [...this.#withheld.values(), ...dropped]);
  }

  /** A catalog model this gateway does not offer, or undefined. */
  withheld(id: string): ModelEntry | undefined {
    return this.#withheld.get(id);
  }

  /** Every catalog model this gateway does not offer. */
  withheldList(): readonly ModelEntry[] {
    return [...this.#withheld.values()];
  }

  get(id: string): IndexedModel | undefined {
    return this.#byId.get(id);
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /** Rates of a catalog model. An id outside the catalog is a programming error here: it throws. */
  rates(id: string): ModelRates {
    const model = this.#byId.get(id);
    if (model === undefined) throw new Error(`model not in catalog: ${id}`);
    return model.rates;
  }

  /** Every model with its rates, in catalog order (what routing ranks). */
  /** Models of one kind: chat completions or embeddings. */
  ofKind(kind: ModelEntry["kind"]): readonly IndexedModel[] {
    return this.models().filter((m) => m.entry.kind === kind);
  }

  models(): readonly IndexedModel[] {
    return this.#models;
  }

  /** Every catalog entry, in catalog order (what GET /v1/models lists). */
  list(): readonly ModelEntry[] {
    return this.#entries;
  }

  /** Distinct provider ids, in order of first appearance. */
  providers(): string[] {
    return [...new Set(this.#entries.map((m) => m.provider))];
  }
}
