import type { ReplacementRule } from "./types";

/**
 * @pulumi/random bridges hashicorp/terraform-provider-random (plugin framework): its plan
 * modifiers decide replacement. Read at v3.9.0, the upstream that pulumi-random v4.21.1 and its
 * master of 2026-08-14 pin (provider/shim/go.mod); the v4.21.2 tag was not in the snapshot read.
 */
const source = (file: string) => ({ repo: "hashicorp/terraform-provider-random", ref: "v3.9.0", file });

export const RANDOM_RULES: ReplacementRule[] = [
    {
        type: "random:index/randomPassword:RandomPassword",
        forceNew: ["length", "special", "upper", "lower", "number", "numeric", "minNumeric", "minUpper", "minLower", "minSpecial"],
        conditional: [
            { kind: "mapIgnoringNulls", path: "keepers", why: "RequiresReplaceIfValuesNotNull: a change of any keeper replaces, keys whose new value is null are ignored" },
            { kind: "unlessEmptyToUnset", path: "overrideSpecial", why: "RequiresReplaceUnlessEmptyStringToNull: replaces on a change, unless unknown or going from \"\" to unset" },
        ],
        source: [source("internal/provider/resource_password.go"), source("internal/planmodifiers/map/mapplanmodifiers.go"), source("internal/planmodifiers/string/stringplanmodifier.go")],
        caveat: "pulumi-random 4.21.2 not read; v4.21.1 and master after it pin the same upstream v3.9.0",
    },
];
