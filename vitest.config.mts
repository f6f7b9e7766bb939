import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
    resolve: {
        // Tests run the TypeScript sources of the policy pack, not its compiled `bin/`.
        alias: [
            { find: /^compute-region-policies$/, replacement: fileURLToPath(new URL("policies/index.ts", import.meta.url)) },
            { find: /^compute-region-policies\/(.*)$/, replacement: fileURLToPath(new URL("policies/$1", import.meta.url)) },
        ],
    },
    test: {
        include: ["test/**/*.test.ts", "policies/test/**/*.test.ts"],
        exclude: ["**/node_modules/**", "**/bin/**"],
        testTimeout: 60_000,
        hookTimeout: 120_000,
        pool: "forks",
        // Vitest leaves a core to itself (one worker on a 2-core machine), but its own process is idle
        // while the tests run: on 2 cores two workers finish the suite in about half the time.
        maxWorkers: Math.max(2, availableParallelism() - 1),
        // A worker runs file after file in one process, so the SDKs (a second or more to load) are
        // loaded once a worker, not once a file. Nothing a test file sets outlives it: plans reset the
        // SDK's mock runtime and config, the stack capture switch is restored, servers are stopped.
        isolate: false,
    },
});
