/**
 * Live health per (model, provider): EWMA latency, time to first token and error rate, the
 * run of consecutive failures, and a circuit breaker. It never reads a clock: every call takes
 * `now` (ms since the epoch), so tests drive it with a fake one.
 *
 * Circuit: closed -> open after `failureThreshold` consecutive failures, or when the EWMA error
 * rate exceeds `errorRateThreshold` once `minSamples` calls were seen. Open -> half-open after
 * `cooldownMs`. Half-open lets one probe through (`allows` hands out the slot); its success
 * closes the circuit with fresh statistics, its failure opens it for another cool-down. A probe
 * whose outcome never comes back frees the slot after another `cooldownMs`.
 */

export type CircuitState = "closed" | "open" | "half_open";

export interface HealthOptions {
  /** EWMA weight of the newest sample (0..1]. */
  alpha: number;
  failureThreshold: number;
  errorRateThreshold: number;
  minSamples: number;
  cooldownMs: number;
}

/** Defaults in the range gateways use (Portkey's breaker: 30 s minimum cool-down, a minimum request count). */
export const DEFAULT_HEALTH_OPTIONS: Readonly<HealthOptions> = Object.freeze({
  alpha: 0.2,
  failureThreshold: 5,
  errorRateThreshold: 0.5,
  minSamples: 10,
  cooldownMs: 30_000,
});

export interface CallOutcome {
  model: string;
  provider: string;
  ok: boolean;
  /** Whole call, ms. Recorded into the latency EWMA for successes only. */
  latencyMs?: number;
  /** Time to first token, ms (streamed calls). */
  ttftMs?: number;
  now: number;
}

/** What decide sees of one (model, provider): plain data, safe to serialise for /admin/health. */
export interface ModelHealth {
  model: string;
  provider: string;
  state: CircuitState;
  /** Whether a call may go there now (closed, or half-open with the probe slot free). */
  available: boolean;
  /** EWMA of successful calls' latency, ms; undefined before the first one. */
  latencyMs: number | undefined;
  latencySamples: number;
  ttftMs: number | undefined;
  errorRate: number;
  samples: number;
  consecutiveFailures: number;
  openedAt: number | undefined;
}

export type HealthSnapshot = Readonly<Record<string, ModelHealth>>;

export const EMPTY_HEALTH: HealthSnapshot = Object.freeze({});

export function healthKey(model: string, provider: string): string {
  return `${provider}/${model}`;
}

interface Entry {
  model: string;
  provider: string;
  state: CircuitState;
  latencyMs: number | undefined;
  latencySamples: number;
  ttftMs: number | undefined;
  errorRate: number;
  samples: number;
  consecutiveFailures: number;
  openedAt: number | undefined;
  probeSince: number | undefined;
}

export class HealthTracker {
  readonly #options: HealthOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(options: Partial<HealthOptions> = {}) {
    const merged = { ...DEFAULT_HEALTH_OPTIONS, ...options };
    if (!(merged.alpha > 0 && merged.alpha <= 1)) throw new RangeError("alpha must be in (0, 1]");
    if (!(merged.failureThreshold >= 1 && merged.minSamples >= 1 && merged.cooldownMs >= 0)) throw new RangeError("health thresholds must be positive");
    this.#options = merged;
  }

  record(outcome: CallOutcome): void {
    const entry = this.#entry(outcome.model, outcome.provider);
    this.#advance(entry, outcome.now);
    const { alpha } = this.#options;
    entry.samples++;
    entry.errorRate = entry.samples === 1 ? (outcome.ok ? 0 : 1) : ewma(entry.errorRate, outcome.ok ? 0 : 1, alpha);
    if (outcome.ttftMs !== undefined) entry.ttftMs = entry.ttftMs === undefined ? outcome.ttftMs : ewma(entry.ttftMs, outcome.ttftMs, alpha);
    if (outcome.ok) {
      if (outcome.latencyMs !== undefined) {
        entry.latencyMs = entry.latencyMs === undefined ? outcome.latencyMs : ewma(entry.latencyMs, outcome.latencyMs, alpha);
        entry.latencySamples++;
      }
      entry.consecutiveFailures = 0;
      if (entry.state === "half_open") this.#close(entry);
      return;
    }
    entry.consecutiveFailures++;
    if (entry.state === "half_open") return this.#open(entry, outcome.now);
    const { failureThreshold, errorRateThreshold, minSamples } = this.#options;
    if (entry.consecutiveFailures >= failureThreshold || (entry.samples >= minSamples && entry.errorRate > errorRateThreshold)) {
      this.#open(entry, outcome.now);
    }
  }

  /**
   * May a call go to this (model, provider) now? Half-open hands out its single probe slot:
   * the first caller gets true, the rest false until the probe's outcome is recorded.
   */
  allows(model: string, provider: string, now: number): boolean {
    const entry = this.#entries.get(healthKey(model, provider));
    if (entry === undefined) return true;
    this.#advance(entry, now);
    if (entry.state === "closed") return true;
    if (entry.state === "open" || entry.probeSince !== undefined) return false;
    entry.probeSince = now;
    return true;
  }

  snapshot(now: number): HealthSnapshot {
    const out: Record<string, ModelHealth> = {};
    for (const [key, entry] of this.#entries) {
      this.#advance(entry, now);
      out[key] = Object.freeze({
        model: entry.model,
        provider: entry.provider,
        state: entry.state,
        available: entry.state === "closed" || (entry.state === "half_open" && entry.probeSince === undefined),
        latencyMs: entry.latencyMs,
        latencySamples: entry.latencySamples,
        ttftMs: entry.ttftMs,
        errorRate: entry.errorRate,
        samples: entry.samples,
        consecutiveFailures: entry.consecutiveFailures,
        openedAt: entry.openedAt,
      });
    }
    return Object.freeze(out);
  }

  #entry(model: string, provider: string): Entry {
    const key = healthKey(model, provider);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = {
        model,
        provider,
        state: "closed",
        latencyMs: undefined,
        latencySamples: 0,
        ttftMs: undefined,
        errorRate: 0,
        samples: 0,
        consecutiveFailures: 0,
        openedAt: undefined,
        probeSince: undefined,
      };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /** Time-driven transitions: open -> half-open after the cool-down; a lost probe frees its slot. */
  #advance(entry: Entry, now: number): void {
    const { cooldownMs } = this.#options;
    if (entry.state === "open" && entry.openedAt !== undefined && now - entry.openedAt >= cooldownMs) {
      entry.state = "half_open";
      entry.probeSince = undefined;
    }
    if (entry.state === "half_open" && entry.probeSince !== undefined && now - entry.probeSince >= cooldownMs) entry.probeSince = undefined;
  }

  #open(entry: Entry, now: number): void {
    entry.state = "open";
    entry.openedAt = now;
    entry.probeSince = undefined;
  }

  /** A recovered model starts over, so its old error rate cannot reopen the circuit at once. */
  #close(entry: Entry): void {
    entry.state = "closed";
    entry.openedAt = undefined;
    entry.probeSince = undefined;
    entry.errorRate = 0;
    entry.samples = 0;
    entry.consecutiveFailures = 0;
  }
}

function ewma(previous: number, sample: number, alpha: number): number {
  return previous + alpha * (sample - previous);
}
