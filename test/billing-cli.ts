import type { Client } from "pg";
import { main } from "../billing/cli";

/** What `cli.js` wrote and the code it exited with. */
export interface CliRun {
    code: number;
    out: string;
    err: string;
}

/**
 * `cli.js` run in-process against a test database: `connect` gives the client each command uses
 * (by the command's arguments, so a test can log each in as its Job's own role).
 */
export function inProcessCli(connect: (argv: string[]) => Promise<Client>): (...argv: string[]) => Promise<CliRun> {
    return async (...argv) => {
        let out = "";
        let err = "";
        const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) }, () => connect(argv));
        return { code, out, err };
    };
}
