import type { CatalogIndex } from "../catalog/index.ts";
import type { ModelEntry } from "../catalog/schema.ts";
import { createAnthropicProvider } from "./anthropic/provider.ts";
import { createGeminiProvider } from "./gemini/provider.ts";
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
 * Base URLs (up to, not including, the API version) of providers served through their native
 * wire format. Both also offer an OpenAI-compatible endpoint, but with gaps (no cached-token
 * usage, parameters silently ignored), so Tollgate speaks the Messages and Gemini APIs instead.
 */
export const NATIVE_PRESETS: Readonly<Record<string, string>> = Object.freeze({
  anthropic: "https://api.anthropic.com",
  google: "https://generativelanguage.googleapis.com",
});

/** Per-provider settings derived from the environment (`<PROVIDER>_API_KEY`, `<PROVIDER>_BASE_URL`). */
export interface ProviderSettings {
  apiKey: string;
  baseUrl?: string;
}

export interface ProviderRegistryOptions {
  catalog: CatalogIndex;
  providers: Readonly<Record<string, ProviderSettings>>;
  simulator?: SimulatorOptions;
  /**
   * Whether a model whose provider is not configured falls back to the simulator (the default,
   * dev mode). Off the devnet it is false: such a model is not served at all.
   */
  simulate?: boolean;
  /** Passed to every live adapter. */
  timeouts?: Pick<OpenAICompatibleOptions, "headersTimeoutMs" | "bodyTimeoutMs">;
}

export type ProviderMode = "live" | "simulator";

export interface ProviderRegistry {
  /**
   * The adapter that serves `model`: live when its provider is configured, else the simulator,
   * or, with `simulate: false`, an error (routing never offers such a model; see `serves`).
   */
  providerFor(model: ModelEntry): Provider;
  /** Whether `model` can be served: its provider is configured, or the simulator stands in. */
  serves(model: ModelEntry): boolean;
  /** How each catalog provider is served, for the startup log and /dev/info. */
  modes(): Record<string, ProviderMode>;
  close(): Promise<void>;
}

/**
 * Which provider serves a model:
 * - live when the provider has a non-empty API key and a base URL: the settings' baseUrl
 *   (`OPENAI_BASE_URL`, `ANTHROPIC_BASE_URL`, ...) beats the catalog entry's `baseUrl`, which
 *   beats the presets above. `anthropic` goes through the Messages API adapter, `google`
 *   through the Gemini API adapter, every other provider through the OpenAI-compatible one; a
 *   provider outside the presets is live only when one of the two overrides names its server
 *   (vLLM, Ollama, a test upstream);
 * - the simulator otherwise: no key or no known base URL. The HTTP layer reports it as
 *   `x-tollgate-provider: simulator`.
 */
export function createProviderRegistry(options: ProviderRegistryOptions): ProviderRegistry {
  const simulator = createSimulatorProvider(options.simulator);
  const simulate = options.simulate ?? true;
  // One adapter (one keep-alive pool) per provider and base URL: entries may point elsewhere.
  const live = new Map<string, Provider>();

  function liveBaseUrl(model: ModelEntry): string | undefined {
    const settings = options.providers[model.provider];
    if (settings === undefined || settings.apiKey.trim() === "") return undefined;
    return settings.baseUrl ?? model.baseUrl ?? NATIVE_PRESETS[model.provider] ?? OPENAI_COMPATIBLE_PRESETS[model.provider];
  }

  function createLive(provider: string, baseUrl: string, apiKey: string): Provider {
    const common = { id: provider, baseUrl, apiKey, ...options.timeouts };
    if (provider === "anthropic") return createAnthropicProvider(common);
    if (provider === "google") return createGeminiProvider(common);
    return createOpenAICompatibleProvider({
      ...common,
      // Only OpenAI itself refuses `max_tokens` (o-series); other servers may not know the new name.
      maxTokensParam: provider === "openai" ? "max_completion_tokens" : "max_tokens",
    });
  }

  function providerFor(model: ModelEntry): Provider {
    const baseUrl = liveBaseUrl(model);
    const settings = options.providers[model.provider];
    if (baseUrl === undefined || settings === undefined) {
      if (simulate) return simulator;
      throw new Error(`no provider is configured for ${model.provider} (model ${model.id}) and the simulator is off`);
    }
    const key = `${model.provider} ${baseUrl}`;
    let provider = live.get(key);
    if (provider === undefined) {
      provider = createLive(model.provider, baseUrl, settings.apiKey);
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

  function serves(model: ModelEntry): boolean {
    return simulate || liveBaseUrl(model) !== undefined;
  }

  return { providerFor, serves, modes, close };
}
