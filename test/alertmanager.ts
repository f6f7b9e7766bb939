import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { stringify as toYaml } from "yaml";
import { freePort } from "./ports";

/**
 * Debian's Alertmanager (prometheus-alertmanager, installed by scripts/install-system-deps.sh) and
 * its amtool, for the tests: check and route a configuration, and run the real thing on a loopback
 * port against a capture server standing for PagerDuty, Slack and the heartbeat.
 */

export const ALERTMANAGER_BINARY = "/usr/bin/prometheus-alertmanager";

/** `amtool check-config` on a configuration. */
export function amtoolCheck(config: unknown): { ok: boolean; output: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "amtool-"));
    fs.writeFileSync(path.join(dir, "alertmanager.yaml"), toYaml(config));
    const r = spawnSync("amtool", ["check-config", "alertmanager.yaml"], { cwd: dir, encoding: "utf8" });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** The receivers `amtool config routes test` routes labels to, one call for several label sets. */
export function amtoolRoutes(config: unknown, labelSets: readonly Record<string, string>[]): string[][] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "amtool-"));
    const file = path.join(dir, "alertmanager.yaml");
    fs.writeFileSync(file, toYaml(config));
    return labelSets.map((labels) => {
        const r = spawnSync("amtool", ["config", "routes", "test", `--config.file=${file}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`amtool config routes test failed: ${r.stderr}`);
        return r.stdout.trim().split(",").map((s) => s.trim()).filter(Boolean);
    });
}

export interface Captured {
    path: string;
    headers: http.IncomingHttpHeaders;
    body: any;
}

/** An HTTP server on a loopback port that records every request. */
export async function captureServer(): Promise<{ url: string; requests: Captured[]; close: () => Promise<void> }> {
    const requests: Captured[] = [];
    const server = http.createServer((req, res) => {
        let data = "";
        req.on("data", (chunk) => (data += chunk));
        req.on("end", () => {
            let body: unknown = data;
            try {
                body = JSON.parse(data);
            } catch {
                /* not JSON */
            }
            requests.push({ path: req.url ?? "", headers: req.headers, body });
            res.writeHead(200, { "content-type": "application/json" });
            res.end("{}");
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Alertmanager on a loopback port with a configuration, no clustering, its state in a temporary directory. */
export async function startAlertmanager(config: unknown): Promise<{ url: string; stop: () => Promise<void>; log: () => string }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alertmanager-"));
    fs.writeFileSync(path.join(dir, "alertmanager.yaml"), toYaml(config));
    const port = await freePort();
    const child: ChildProcess = spawn(ALERTMANAGER_BINARY, [`--config.file=${path.join(dir, "alertmanager.yaml")}`, `--storage.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address="], { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout!.on("data", (d) => (log += d));
    child.stderr!.on("data", (d) => (log += d));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 15_000;
    for (;;) {
        try {
            if ((await fetch(`${url}/-/ready`)).ok) break;
        } catch {
            /* not up yet */
        }
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`Alertmanager did not start: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
    }
    return {
        url,
        log: () => log,
        stop: () =>
            new Promise((resolve) => {
                if (child.exitCode !== null) return resolve();
                child.once("exit", () => resolve());
                child.kill("SIGTERM");
            }),
    };
}

/** Waits until `check` holds (polling), or fails with `what`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await check();
        if (value !== undefined && value !== false) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}
