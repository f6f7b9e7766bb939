import * as path from "node:path";
import { loadMigrations, Migration } from "../billing/migrate";

/** The package's root (components/ in the sources, bin/components/ compiled): files it ships are read from here. */
export const PACKAGE_ROOT = path.resolve(__dirname, "..", ...(path.basename(path.resolve(__dirname, "..")) === "bin" ? [".."] : []));

/** The billing schema's migrations shipped with the package. */
export function packagedMigrations(): Migration[] {
    return loadMigrations(path.join(PACKAGE_ROOT, "billing", "migrations"));
}
