import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";

/* eslint-disable @typescript-eslint/no-require-imports */
const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

/** A policy pack served by CrossGuard's own analyzer, and a gRPC client of it (the analyzer protocol @pulumi/pulumi ships). */
export interface PackAnalyzer {
    /** A unary call to the analyzer, as a promise. */
    call<T>(method: string, request: unknown): Promise<T>;
    stop(): void;
}

/**
 * Serves the compiled pack in `packDir` as `pulumi preview --policy-pack` does: `run-policy-pack` of the
 * SDK installed under `sdkRoot` runs the pack's main, whose PolicyPack starts @pulumi/policy's gRPC
 * analyzer and prints its port.
 */
export async function startPackAnalyzer(sdkRoot: string, packDir: string): Promise<PackAnalyzer> {
    const server: ChildProcess = spawn(process.execPath, [path.join(sdkRoot, "node_modules/@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:0", "."], { cwd: packDir, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    server.stderr!.on("data", (d) => (stderr += d));
    let port: number;
    try {
        port = await new Promise<number>((resolve, reject) => {
            let out = "";
            server.stdout!.on("data", (d) => {
                out += d;
                const m = /^(\d+)\s*$/m.exec(out);
                if (m) resolve(Number(m[1]));
            });
            server.on("exit", (code) => reject(new Error(`the analyzer of the pack in ${packDir} exited with ${code} before serving:\n${stderr}`)));
        });
    } catch (e) {
        server.kill();
        throw e;
    }
    const client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return {
        call: <T>(method: string, request: unknown) => new Promise<T>((resolve, reject) => client[method](request, (err: Error | null, response: T) => (err ? reject(err) : resolve(response)))),
        stop: () => {
            client.close();
            server.kill();
        },
    };
}
