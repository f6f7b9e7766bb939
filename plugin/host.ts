/**
 * The plugin's entry (its package.json `main`, compiled): hosts the components of ./index as a Pulumi
 * component provider named `compute-region`. Pulumi's Node.js runtime runs it (`pulumi package add`,
 * then every program that uses the package); the schema is inferred from the sources in this
 * directory's program (tsconfig.json here), so the tokens are `compute-region:index:<Name>`.
 */
import { componentProviderHost } from "@pulumi/pulumi/provider/experimental";
import { PLUGIN_DIR, PLUGIN_OPTIONS } from "./provider";

componentProviderHost({ ...PLUGIN_OPTIONS, dirname: PLUGIN_DIR }).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
});
