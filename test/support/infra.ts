// Access to the real local services the integration and e2e tests run against
// (started by scripts/local-infra.sh; images from scripts/build-test-images.sh).
import { spawn, spawnSync } from "child_process";
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..", "..", "..");

export interface TestRelease {
    version: string;
    gitSha: string;
    image: string;
    digest: string;
    schemaVersion: number;
    schemaMin: number;
    schemaMax: number;
}

/** The test app's releases, as scripts/build-test-images.sh recorded them. */
export function releases(): Record<string, TestRelease> {
    return JSON.parse(fs.readFileSync(path.join(ROOT, ".local", "images.json"), "utf8"));
}

export function ref(r: TestRelease): string {
    return `${r.image}@${r.digest}`;
}

/** libpq environment for the app role on the local server. */
export function pg(database = "app"): Record<string, string> {
    return {
        PGHOST: "127.0.0.1",
        PGPORT: process.env.PG_PORT ?? "5432",
        PGUSER: "app",
        PGDATABASE: database,
        PGPASSWORD: fs.readFileSync(path.join(ROOT, ".local", "pg", "app-password"), "utf8").trim(),
    };
}

export function uniq(prefix: string): string {
    return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
}

export interface Result {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs a program to completion (no shell). */
export function exec(cmd: string, args: string[], env: Record<string, string> = {}, input?: string, cwd?: string): Result {
    const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: "utf8", input, cwd, maxBuffer: 64 * 1024 * 1024 });
    return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Runs a program without blocking the event loop (for tests that serve while it runs). */
export function execAsync(cmd: string, args: string[], env: Record<string, string> = {}, cwd?: string): Promise<Result> {
    return new Promise(resolve => {
        const p = spawn(cmd, args, { env: { ...process.env, ...env }, cwd });
        let stdout = "", stderr = "";
        p.stdout.on("data", d => { stdout += d; });
        p.stderr.on("data", d => { stderr += d; });
        p.on("close", code => resolve({ code: code ?? -1, stdout, stderr }));
    });
}

/** Runs one of the components' bash scripts with an environment, as the command provider does. */
export function runScript(script: string, env: Record<string, string>): Result {
    return exec("/bin/bash", ["-c", script], env);
}

export function psql(sql: string, database = "app"): string {
    const r = exec("psql", ["-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql], pg(database));
    if (r.code !== 0) throw new Error(`psql failed: ${r.stderr}`);
    return r.stdout.trim();
}

export function createDb(name: string): void {
    const r = exec("createdb", [name], pg("postgres"));
    if (r.code !== 0) throw new Error(`createdb ${name}: ${r.stderr}`);
}

export function dropDb(name: string): void {
    exec("dropdb", ["--if-exists", "--force", name], pg("postgres"));
}

/** The migration version recorded in a database (golang-migrate's table), or 0. */
export function schemaVersion(database: string): number {
    const has = psql("SELECT to_regclass('public.schema_migrations') IS NOT NULL", database);
    return has === "t" ? Number(psql("SELECT version FROM schema_migrations", database) || 0) : 0;
}

export function columns(table: string, database: string): string[] {
    return psql(`SELECT column_name FROM information_schema.columns WHERE table_name='${table}' ORDER BY ordinal_position`, database)
        .split("\n").filter(Boolean);
}

export function sha256(file: string): string {
    return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

export function tmpDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/**
 * A free TCP port on loopback, below the kernel's ephemeral range (32768 and
 * up), so that no outgoing connection of another process can take it between
 * this check and the moment a test's server binds it. Ports already handed
 * out by this process are not handed out again.
 */
const handedOut = new Set<number>();
export async function freePort(): Promise<number> {
    const tryPort = (port: number) => new Promise<boolean>(resolve => {
        const s = net.createServer();
        s.once("error", () => resolve(false));
        s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    for (let i = 0; i < 200; i++) {
        const port = 20000 + Math.floor(Math.random() * 12000);
        // Slot ports come in pairs (appPort, appPort + 1): keep both free.
        if (handedOut.has(port) || handedOut.has(port + 1) || handedOut.has(port - 1)) continue;
        if (await tryPort(port) && await tryPort(port + 1)) {
            handedOut.add(port);
            return port;
        }
    }
    throw new Error("no free port pair found in 20000-32000 on 127.0.0.1");
}

/** GET http://host:port/health on a fresh connection (loopback, or a test host); undefined when nothing answers. */
export function health(port: number, host = "127.0.0.1"): Promise<{ status: number; body: { status?: string; version?: string } } | undefined> {
    return new Promise(resolve => {
        const req = http.get({ host, port, path: "/health", agent: false, timeout: 3000 }, res => {
            let data = "";
            res.on("data", d => { data += d; });
            res.on("end", () => {
                try {
                    resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) });
                } catch {
                    resolve({ status: res.statusCode ?? 0, body: {} });
                }
            });
        });
        req.on("timeout", () => req.destroy());
        req.on("error", () => resolve(undefined));
    });
}

export function containerId(name: string): string {
    return exec("docker", ["container", "inspect", "-f", "{{.Id}}", name]).stdout.trim();
}

export function removeContainer(name: string): void {
    exec("docker", ["rm", "-f", name]);
}

/** A loopback port that accepts connections and never answers (to hold a step, e.g. a backup, in place). */
export async function stallServer(): Promise<{ port: number; close: () => void }> {
    const sockets: net.Socket[] = [];
    const server = net.createServer(sock => { sockets.push(sock); });
    await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
    return {
        port: (server.address() as net.AddressInfo).port,
        close: () => { server.close(); sockets.forEach(x => x.destroy()); },
    };
}
