import type { ReplacementRule } from "./types";

/**
 * @pulumi/docker-build is a native provider (pulumi/pulumi-docker-build, infer framework): its
 * Image's own Diff decides. Read at v0.0.22, the version pinned here.
 */
const source = { repo: "pulumi/pulumi-docker-build", ref: "v0.0.22", file: "provider/internal/image.go" };

export const DOCKER_BUILD_RULES: ReplacementRule[] = [
    {
        type: "docker-build:index:Image",
        // Diff marks every change an update, and Update builds and pushes again: nothing replaces.
        forceNew: [],
        suppressed: [{ kind: "ignored", path: "registries[*].password", why: "Diff compares registries by address and username only: a fresh registry token is no change" }],
        // A new build pushes a new manifest: its digest and ref are known only after the update.
        recomputedOnUpdate: ["digest", "ref", "contextHash"],
        deleteBeforeReplace: "never",
        source: [source],
        note: "Diff also marks contextHash changed when the files of the build context change, which the offline diff cannot see: a source change shows through the image tag (a hash of the sources).",
    },
];
