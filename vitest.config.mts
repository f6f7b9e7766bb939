import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
    resolve: {
        // Tests run the TypeScript sources of the policy pack, not its compiled `bin/`.
        alias: [{ find: /^compute-region-policies\/(.*)$/, replacement: fileURLToPath(new URL("policies/$1", import.meta.url)) }],
    },
    test: {
        include: ["test/**/*.test.ts", "policies/test/**/*.test.ts"],
        exclude: ["**/node_modules/**", "**/bin/**"],
        testTimeout: 60_000,
        hookTimeout: 120_000,
        pool: "forks",
    },
});
