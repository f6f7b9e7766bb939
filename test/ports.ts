import * as net from "node:net";

/** A TCP port free on loopback now, for a server the tests start (PostgreSQL, Prometheus, Alertmanager, a stand-in). */
export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
        server.on("error", reject);
    });
}
