import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

describe("configuration", () => {
  it("starts in devnet mode with no variables at all", () => {
    const config = loadConfig({});
    expect(config.chain.kind).toBe("devnet");
    expect(config.chain.network).toBe("eip155:84532");
    expect(config.port).toBe(8402);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("names the variable that is invalid", () => {
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(/PORT/);
    expect(() => loadConfig({ MIN_PRICE_USD: "0.0000001" })).toThrow(/MIN_PRICE_USD/);
    expect(() => loadConfig({ OPENAI_BASE_URL: "not a url", OPENAI_API_KEY: "k" })).toThrow(/OPENAI_BASE_URL/);
  });

  it("refuses remote-chain settings without NETWORK rather than silently running a devnet", () => {
    expect(() => loadConfig({ PAY_TO: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" })).toThrow(/NETWORK/);
  });

  it("needs PAY_TO and a facilitator on a real network", () => {
    expect(() => loadConfig({ NETWORK: "eip155:84532" })).toThrow(/PAY_TO/);
    expect(() => loadConfig({ NETWORK: "eip155:84532", PAY_TO: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" })).toThrow(/FACILITATOR_URL/);
    const config = loadConfig({ NETWORK: "eip155:84532", PAY_TO: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", FACILITATOR_URL: "https://x402.org/facilitator", OPENAI_API_KEY: "k" });
    expect(config.chain).toMatchObject({ kind: "remote", network: "eip155:84532", facilitatorUrls: ["https://x402.org/facilitator"] });
  });

  it("takes the network's USDC with its EIP-712 domain by default, and needs the domain of a custom ASSET", () => {
    const remote = { NETWORK: "eip155:8453", PAY_TO: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", FACILITATOR_URL: "https://x402.org/facilitator", OPENAI_API_KEY: "k" };
    // Base mainnet's USDC signs as "USD Coin", Base Sepolia's as "USDC".
    expect(loadConfig(remote).chain.asset).toEqual({ address: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", name: "USD Coin", version: "2" });
    expect(loadConfig({ ...remote, ASSET: "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913" }).chain.asset?.name).toBe("USD Coin");
    const custom = { ...remote, ASSET: "0x5FbDB2315678afecb367f032d93F642f64180aa3" };
    expect(() => loadConfig(custom)).toThrow(/ASSET_NAME, ASSET_VERSION: required with a custom ASSET/);
    expect(() => loadConfig({ ...custom, ASSET_NAME: "Euro Coin" })).toThrow(/ASSET_VERSION: required/);
    expect(loadConfig({ ...custom, ASSET_NAME: "Euro Coin", ASSET_VERSION: "2" }).chain.asset).toEqual({ address: custom.ASSET, name: "Euro Coin", version: "2" });
    expect(() => loadConfig({ ...remote, NETWORK: "eip155:10" })).toThrow(/ASSET: required on eip155:10/);
  });

  it("refuses a well-known devnet key on a real network", () => {
    const env = {
      NETWORK: "eip155:84532",
      PAY_TO: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
      RPC_URL: "https://sepolia.base.org",
      FACILITATOR_PRIVATE_KEY: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/well-known devnet key/);
  });

  it("collects provider keys and base URLs", () => {
    const config = loadConfig({ OPENAI_API_KEY: "sk-x", OPENAI_BASE_URL: "http://127.0.0.1:9999/v1", GROQ_API_KEY: "g" });
    expect(config.providers).toEqual({ openai: { apiKey: "sk-x", baseUrl: "http://127.0.0.1:9999/v1" }, groq: { apiKey: "g" } });
  });

  it.each([
    ["ADMIN_TOKEN", "a".repeat(16)],
    ["ADMIN_TOKEN", "ab".repeat(12)],
    ["QUOTE_SECRET", "x".repeat(40)],
    ["QUOTE_SECRET", "abc".repeat(11)],
  ])("refuses a low-entropy %s (%s), naming the variable and how to make one", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}: too predictable.*openssl rand -hex 32`));
    // The secret itself never appears in the message.
    expect(() => loadConfig({ [name]: value })).not.toThrow(value);
  });

  it("accepts secrets as openssl rand makes them", () => {
    const config = loadConfig({ ADMIN_TOKEN: "3f9c1e0b7a2d4c68", QUOTE_SECRET: "9b1f0c3e7d5a2b4c6e8f0a1b3c5d7e9f2a4b6c8d0e1f3a5b" });
    expect(config.adminToken).toBe("3f9c1e0b7a2d4c68");
  });

  it("refuses a QUOTE_TTL_SECONDS too short for any honest payment to settle, naming the minimum", () => {
    // Agents sign validBefore = now + QUOTE_TTL_SECONDS; the gateway wants 30 s left when a payment arrives.
    for (const ttl of ["5", "30", "59"]) expect(() => loadConfig({ QUOTE_TTL_SECONDS: ttl })).toThrow(/QUOTE_TTL_SECONDS: at least 60/);
    expect(loadConfig({ QUOTE_TTL_SECONDS: "60" }).quoteTtlSeconds).toBe(60);
    expect(loadConfig({}).quoteTtlSeconds).toBe(300);
  });

  it("serves the dev endpoints in dev mode on a loopback HOST only", () => {
    for (const host of ["127.0.0.1", "127.0.0.2", "::1", "localhost"]) expect(loadConfig({ HOST: host }).devEndpoints, host).toBe(true);
    for (const host of ["0.0.0.0", "::", "192.0.2.2", "example.com"]) expect(loadConfig({ HOST: host }).devEndpoints, host).toBe(false);
    expect(loadConfig({ NETWORK: "eip155:84532", PAY_TO: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", FACILITATOR_URL: "https://x402.org/facilitator", OPENAI_API_KEY: "k" }).devEndpoints).toBe(false);
  });

  describe("the simulator", () => {
    const remote = { NETWORK: "eip155:84532", PAY_TO: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", FACILITATOR_URL: "https://x402.org/facilitator" };

    it("refuses to start on a real network without a provider key, naming the variables to set", () => {
      expect(() => loadConfig(remote)).toThrow(ConfigError);
      expect(() => loadConfig(remote)).toThrow(/OPENAI_API_KEY, ANTHROPIC_API_KEY, GOOGLE_API_KEY, .*FIREWORKS_API_KEY: set at least one provider key/);
      expect(() => loadConfig({ ...remote, SIMULATOR: "off" })).toThrow(/OPENAI_API_KEY/);
    });

    it("is off on a real network with a key, and on by default in dev mode, unmarked", () => {
      expect(loadConfig({ ...remote, ANTHROPIC_API_KEY: "k" }).simulator).toMatchObject({ enabled: false, marked: false });
      expect(loadConfig({}).simulator).toMatchObject({ enabled: true, marked: false });
    });

    it("runs on a real network only with SIMULATOR=on, and then marks everything", () => {
      expect(loadConfig({ ...remote, SIMULATOR: "on" }).simulator).toMatchObject({ enabled: true, marked: true });
      expect(loadConfig({ ...remote, SIMULATOR: "on", OPENAI_API_KEY: "k" }).simulator).toMatchObject({ enabled: true, marked: true });
    });

    it("can be turned off in dev mode, which then needs a key too", () => {
      expect(() => loadConfig({ SIMULATOR: "off" })).toThrow(/SIMULATOR=off, so no model could be served/);
      expect(loadConfig({ SIMULATOR: "off", GROQ_API_KEY: "g" }).simulator.enabled).toBe(false);
    });
  });

  describe("rate limits", () => {
    it("limits by default, generously, in this process, trusting no proxy", () => {
      expect(loadConfig({}).rateLimits).toEqual({
        unpaid: { policy: "unpaid", ratePerSecond: 50, burst: 500 },
        paid: { policy: "paid", ratePerSecond: 50, burst: 500 },
        redisUrl: undefined,
        keyPrefix: "tollgate:rl:",
        trustProxy: [],
      });
    });

    it("turns a limit off at a rate of 0 and takes fractional rates", () => {
      const limits = loadConfig({ RATE_LIMIT_UNPAID_PER_SECOND: "0", RATE_LIMIT_PAID_PER_SECOND: "0.5", RATE_LIMIT_PAID_BURST: "3" }).rateLimits;
      expect(limits.unpaid).toBeUndefined();
      expect(limits.paid).toEqual({ policy: "paid", ratePerSecond: 0.5, burst: 3 });
    });

    it("names the rate-limit variable that is invalid, without repeating a Redis password", () => {
      expect(() => loadConfig({ RATE_LIMIT_UNPAID_PER_SECOND: "-1" })).toThrow(/RATE_LIMIT_UNPAID_PER_SECOND/);
      expect(() => loadConfig({ RATE_LIMIT_PAID_BURST: "0" })).toThrow(/RATE_LIMIT_PAID_BURST/);
      expect(() => loadConfig({ RATE_LIMIT_UNPAID_BURST: "2.5" })).toThrow(/RATE_LIMIT_UNPAID_BURST/);
      const secret = "http://:hunter2-secret@127.0.0.1:6379";
      expect(() => loadConfig({ REDIS_URL: secret })).toThrow(/REDIS_URL: a redis:\/\/ or rediss:\/\/ URL/);
      expect(() => loadConfig({ REDIS_URL: secret })).not.toThrow(/hunter2/);
      expect(loadConfig({ REDIS_URL: "rediss://:pw@redis.internal:6380/2" }).rateLimits.redisUrl).toBe("rediss://:pw@redis.internal:6380/2");
    });

    it("reads TRUST_PROXY as addresses and CIDR blocks, and names an entry that is neither", () => {
      expect(loadConfig({ TRUST_PROXY: "10.0.0.0/8, 192.0.2.1,2001:db8::/32" }).rateLimits.trustProxy).toEqual([
        { address: "10.0.0.0", prefix: 8, family: "ipv4" },
        { address: "192.0.2.1", prefix: 32, family: "ipv4" },
        { address: "2001:db8::", prefix: 32, family: "ipv6" },
      ]);
      for (const bad of ["2", "loopback", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/8/1", "10.0.0.0/x", "300.1.1.1"]) {
        expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(new RegExp(`TRUST_PROXY: '${bad.replaceAll(".", "\\.").replaceAll("/", "\\/")}' is not an IP address or CIDR block`));
      }
    });
  });
});
