import * as fs from "node:fs";
import * as path from "node:path";
import type { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { PACKAGE_NAME } from "../components/component-type";
import * as components from "./index";

/** The plugin's source directory (PulumiPlugin.yaml, tsconfig.json and index.ts), from the sources or their compiled form in bin/plugin/. */
export const PLUGIN_DIR = fs.existsSync(path.join(__dirname, "PulumiPlugin.yaml")) ? __dirname : path.resolve(__dirname, "..", "..", "plugin");

/** The package's version: the library's (the root package.json), so the plugin and the library are released together. */
export function packageVersion(): string {
    return (JSON.parse(fs.readFileSync(path.resolve(PLUGIN_DIR, "..", "package.json"), "utf8")) as { version: string }).version;
}

/** What the provider serves: the package name the tokens carry, its version and the component classes. */
export const PLUGIN_OPTIONS: ConstructorParameters<typeof ComponentProvider>[0] = {
    name: PACKAGE_NAME,
    version: packageVersion(),
    components: Object.values(components),
};
