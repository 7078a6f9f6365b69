import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each integration file starts its own hardhat devnet; two cores do not like more than two.
    maxWorkers: 2,
  },
});
