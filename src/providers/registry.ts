import type { CatalogIndex } from "../catalog/index.ts";
import type { ModelEntry } from "../catalog/schema.ts";
import { createOpenAICompatibleProvider, type OpenAICompatibleOptions } from "./openai-compatible.ts";
import { createSimulatorProvider, type SimulatorOptions } from "./simulator.ts";
import type { Provider } from "./types.ts";

/** Base URLs of providers that speak OpenAI's chat-completions wire format. */
export const OPENAI_COMPATIBLE_PRESETS: Readonly<Record<string, string>> = Object.freeze({
  openai: "https://api.openai.com/v1",
  openrouter: "https://openrouter.ai/api/v1",
  groq: "https://api.groq.com/openai/v1",
  together: "https://api.together.xyz/v1",
  deepseek: "https://api.deepseek.com/v1",
  mistral: "https://api.mistral.ai/v1",
  fireworks: "https://api.fireworks.ai/inference/v1",
});

/**
 * Providers whose native wire format has no adapter yet. Both offer an OpenAI-compatible
 * endpoint, but with gaps (no cached-token usage, parameters silently ignored), so they wait for
 * their own adapters (later issue) and are simulated until then.
 */
export const NOT_YET_ADAPTED: ReadonlySet<string> = new Set(["anthropic", "google"]);

/** Per-provider settings derived from the environment (`<PROVIDER>_API_KEY`, `<PROVIDER>_BASE_URL`). */
export interface ProviderSettings {
  apiKey: string;
  baseUrl?: string;
}

export interface ProviderRegistryOptions {
  catalog: CatalogIndex;
  providers: Readonly<Record<string, ProviderSettings>>;
  simulator?: SimulatorOptions;
  /** Passed to every live adapter. */
  timeouts?: Pick<OpenAICompatibleOptions, "headersTimeoutMs" | "bodyTimeoutMs">;
}

export type ProviderMode = "live" | "simulator";

export interface ProviderRegistry {
  /** The adapter that serves `model`: live when its provider is configured, else the simulator. */
  providerFor(model: ModelEntry): Provider;
  /** How each catalog provider is served, for the startup log and /dev/info. */
  modes(): Record<string, ProviderMode>;
  close(): Promise<void>;
}

/**
 * Which provider serves a model:
 * - live, over the OpenAI-compatible adapter, when the provider has a non-empty API key and a
 *   base URL: the settings' baseUrl (`OPENAI_BASE_URL`, ...) beats the catalog entry's
 *   `baseUrl`, which beats the preset above. A provider outside the presets is live only when
 *   one of the two overrides names its server (vLLM, Ollama, a test upstream);
 * - the simulator otherwise: no key, no known base URL, or a wire format without an adapter yet
 *   (anthropic, google). The HTTP layer reports it as `x-tollgate-provider: simulator`.
 */
export function createProviderRegistry(options: ProviderRegistryOptions): ProviderRegistry {
  const simulator = createSimulatorProvider(options.simulator);
  // One adapter (one keep-alive pool) per provider and base URL: entries may point elsewhere.
  const live = new Map<string, Provider>();

  function liveBaseUrl(model: ModelEntry): string | undefined {
    if (NOT_YET_ADAPTED.has(model.provider)) return undefined;
    const settings = options.providers[model.provider];
    if (settings === undefined || settings.apiKey.trim() === "") return undefined;
    return settings.baseUrl ?? model.baseUrl ?? OPENAI_COMPATIBLE_PRESETS[model.provider];
  }

  function providerFor(model: ModelEntry): Provider {
    const baseUrl = liveBaseUrl(model);
    const settings = options.providers[model.provider];
    if (baseUrl === undefined || settings === undefined) return simulator;
    const key = `${model.provider} ${baseUrl}`;
    let provider = live.get(key);
    if (provider === undefined) {
      provider = createOpenAICompatibleProvider({
        id: model.provider,
        baseUrl,
        apiKey: settings.apiKey,
        ...options.timeouts,
        // Only OpenAI itself refuses `max_tokens` (o-series); other servers may not know the new name.
        maxTokensParam: model.provider === "openai" ? "max_completion_tokens" : "max_tokens",
      });
      live.set(key, provider);
    }
    return provider;
  }

  function modes(): Record<string, ProviderMode> {
    const out: Record<string, ProviderMode> = {};
    for (const { entry } of options.catalog.models()) {
      if (out[entry.provider] === "live") continue;
      out[entry.provider] = liveBaseUrl(entry) === undefined ? "simulator" : "live";
    }
    return out;
  }

  async function close(): Promise<void> {
    const providers = [...live.values()];
    live.clear();
    await Promise.all(providers.map((p) => p.close?.()));
  }

  return { providerFor, modes, close };
}
