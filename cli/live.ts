// Reads of the live system that deployctl's pre-flight checks need: the
// schema the database is at, the release the service's container runs, and
// the migration files an image carries. Each returns data; the decisions are
// the pure functions in components/schema.ts and cli/history.ts.
import { execFile } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import { ConfigMap, Stack } from "./pulumiCli";
import { DEFAULTS, PROJECT } from "../components/config";
import { LiveSchema, parseVersionLine } from "../components/schema";

/** Result of a child process. */
export interface RunResult {
    code: number;
    out: string;
}

/** Runs a program (no shell) and collects its output. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
    return new Promise(resolve => {
        execFile(cmd, args, { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
            const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
            resolve({ code, out: `${stdout}${stderr}`.trim() });
        });
    });
}

/** The sha256 of a file (a dump), read in 1 MiB pieces. */
export function sha256File(file: string): string {
    const h = createHash("sha256");
    const fd = fs.openSync(file, "r");
    try {
        const buf = Buffer.alloc(1 << 20);
        let n: number;
        while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
    } finally {
        fs.closeSync(fd);
    }
    return h.digest("hex");
}

/** A stack's settings, with Pulumi.yaml's defaults applied, and its database password. */
export interface StackSettings {
    get(key: string): string;
    password: string | undefined;
}

/** Reads a stack's project settings (and its secret password, decrypted only in memory). */
export async function stackSettings(stack: Stack, cfg?: ConfigMap): Promise<StackSettings> {
    const all = cfg ?? await stack.getAllConfig();
    // getAllConfig shows secrets: the password is read with the rest, not by a second CLI call.
    const password = all[`${PROJECT}:dbPassword`]?.value;
    return { get: (k: string) => all[`${PROJECT}:${k}`]?.value ?? DEFAULTS[k] ?? "", password };
}

/** libpq's environment for the stack's database. */
export function pgEnvOf(s: StackSettings): NodeJS.ProcessEnv {
    return {
        ...process.env, PGHOST: s.get("dbHost"), PGPORT: s.get("dbPort"), PGUSER: s.get("dbUser"),
        PGDATABASE: s.get("dbName"), PGPASSWORD: s.password ?? "", PGCONNECT_TIMEOUT: "10",
    };
}

/** A host of the stack: api-server:hosts, or the one host of dockerHost and appHost. */
export interface LiveHost {
    name: string;
    /** Its Docker endpoint; "" is the default (DOCKER_HOST, else the local socket). */
    endpoint: string;
    address: string;
    /** Whether api-server:hosts lists it (its proxy is then reached through docker exec). */
    listed: boolean;
}

/** The stack's hosts in switch order (the program validates the list; an unreadable one reads as the single host). */
export function stackHosts(s: StackSettings): LiveHost[] {
    const raw = s.get("hosts");
    if (raw !== "") {
        try {
            const list = JSON.parse(raw) as { name?: unknown; endpoint?: unknown; address?: unknown }[];
            if (Array.isArray(list) && list.length > 0) {
                return list.map(h => ({ name: String(h?.name ?? ""), endpoint: String(h?.endpoint ?? ""), address: String(h?.address ?? ""), listed: true }));
            }
        } catch {
            // The program refuses it with the key named; here the stack reads as one host.
        }
    }
    return [{ name: "local", endpoint: s.get("dockerHost"), address: s.get("appHost"), listed: false }];
}

/** The environment of a docker CLI call on a host's engine (the first host's by default). */
export function dockerEnvOf(s: StackSettings, host: LiveHost = stackHosts(s)[0]): NodeJS.ProcessEnv {
    return { ...process.env, ...(host.endpoint ? { DOCKER_HOST: host.endpoint } : {}) };
}

/**
 * The schema the database is at, from the migration tool's version table.
 * A database without that table has had no migration: schema 0. Throws with
 * psql's own first line when the database cannot be read.
 */
export async function readLiveSchema(s: StackSettings): Promise<LiveSchema> {
    const table = s.get("schemaTable");
    const env = pgEnvOf(s);
    const exists = await run("psql", ["-qAtX", "--no-password", "-c", `SELECT to_regclass('${table}') IS NOT NULL`], env);
    if (exists.code !== 0) throw new Error(`cannot read the live schema of ${s.get("dbName")} at ${s.get("dbHost")}:${s.get("dbPort")}: ${exists.out.split("\n")[0]}`);
    if (exists.out !== "t") return { version: 0, dirty: false };
    const row = await run("psql", ["-qAtX", "--no-password", "-F", " ", "-c", `SELECT version, dirty FROM ${table} LIMIT 1`], env);
    if (row.code !== 0) throw new Error(`cannot read ${table}: ${row.out.split("\n")[0]}`);
    if (row.out === "") return { version: 0, dirty: false };
    const parsed = parseVersionLine(row.out.replace(/ t$/, " true").replace(/ f$/, " false"));
    if (!parsed) throw new Error(`${table} holds an unexpected row: ${JSON.stringify(row.out)}`);
    return parsed;
}

/**
 * The services of the stack's bundle, in switch order: their names and
 * container names (a single-service stack: appName for both).
 */
export function serviceContainers(s: StackSettings): { name: string; container: string }[] {
    const raw = s.get("services");
    if (raw !== "") {
        try {
            const list = JSON.parse(raw) as { name?: unknown }[];
            if (Array.isArray(list) && list.length > 0) {
                return list.map(x => String(x?.name ?? "")).map(name => ({ name, container: `${s.get("appName")}-${name}` }));
            }
        } catch {
            // An unreadable list is the program's to refuse; here it reads as a single service.
        }
    }
    return [{ name: s.get("appName"), container: s.get("appName") }];
}

/**
 * The release the bundle's first service runs now on the first host (its
 * container's version label), or undefined when none runs. They are the first
 * to switch: once they run a release, that release has switched.
 */
export async function servingVersion(s: StackSettings): Promise<string | undefined> {
    return containerVersion(s, serviceContainers(s)[0].container, stackHosts(s)[0]);
}

/** Each service and the release it runs now on a host ("none" when no container runs). */
export async function servingByService(s: StackSettings, host: LiveHost = stackHosts(s)[0]): Promise<{ name: string; version: string }[]> {
    return Promise.all(serviceContainers(s).map(async svc => ({ name: svc.name, version: await containerVersion(s, svc.container, host) ?? "none" })));
}

/**
 * What runs where: "api runs v1.1.0, web runs v1.0.0" for a bundle on one
 * host; "host a: api runs v1.1.0; host b: api runs v1.0.0" for listed hosts;
 * "" for a single service on one host.
 */
export async function servingLine(s: StackSettings): Promise<string> {
    const hosts = stackHosts(s);
    const rows = await Promise.all(hosts.map(h => servingByService(s, h).catch(() => undefined)));
    const each = (r: { name: string; version: string }[] | undefined) => r ? r.map(x => `${x.name} runs ${x.version}`).join(", ") : "unknown (its engine does not answer)";
    if (hosts.length > 1 || hosts[0].listed) return hosts.map((h, i) => `host ${h.name}: ${each(rows[i])}`).join("; ");
    return rows[0] && rows[0].length >= 2 ? each(rows[0]) : "";
}

/** A service's running container, as its labels describe it. */
export interface RunningContainer {
    name: string;
    version: string;
    digest: string;
    /** Behind the proxy, its slot port; "" otherwise. */
    slot: string;
}

/**
 * A service's running container: the one labelled as the service's (behind a
 * proxy, the one on the active slot), else the container of that name;
 * undefined when none runs.
 */
export async function runningContainer(s: StackSettings, service: string, host?: LiveHost): Promise<RunningContainer | undefined> {
    const env = dockerEnvOf(s, host);
    const fmt = '{{.State.Running}} {{.Name}} {{index .Config.Labels "org.opencontainers.image.version"}} {{index .Config.Labels "release.digest"}} {{index .Config.Labels "release.slot"}}';
    const labelled = await run("docker", ["ps", "-q", "--filter", `label=release.service=${service}`], env);
    const ids = labelled.code === 0 ? labelled.out.split("\n").filter(Boolean) : [];
    for (const target of [...ids, service]) {
        const r = await run("docker", ["inspect", "-f", fmt, target], env);
        if (r.code !== 0) continue;
        const [running, name = "", version = "", digest = "", slot = ""] = r.out.split(" ");
        if (running === "true") return { name: name.replace(/^\//, ""), version, digest, slot };
    }
    return undefined;
}

/** The release a service's container runs now (its version label), or undefined when none runs. */
async function containerVersion(s: StackSettings, name: string, host?: LiveHost): Promise<string | undefined> {
    const c = await runningContainer(s, name, host);
    return c?.version || undefined;
}

/** The migration file names an image carries (its migrationsDir), read without running it, on the stack's first host by default. */
export async function imageMigrationFiles(s: StackSettings, ref: string, env: NodeJS.ProcessEnv = dockerEnvOf(s)): Promise<string[]> {
    const created = await run("docker", ["create", "--entrypoint", s.get("migrateCommand"), ref], env);
    if (created.code !== 0) throw new Error(`cannot create a container of ${ref}: ${created.out.split("\n").pop()}`);
    const id = created.out.split("\n").pop()!.trim();
    try {
        const listed = await new Promise<RunResult>(resolve => {
            const p = execFile("sh", ["-c", 'docker cp "$CID:$DIR/." - | tar -t'],
                { env: { ...env, CID: id, DIR: s.get("migrationsDir") }, maxBuffer: 16 * 1024 * 1024 },
                (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: err ? stderr : stdout }));
            p.stdin?.end();
        });
        if (listed.code !== 0) throw new Error(`cannot list ${s.get("migrationsDir")} in ${ref}: ${listed.out.split("\n")[0]}`);
        return listed.out.split("\n").map(l => l.replace(/^\.\//, "").trim()).filter(l => l !== "" && l !== ".");
    } finally {
        await run("docker", ["rm", id], env);
    }
}

/**
 * Whether a migration is running on the stack's database right now: the
 * migration tool (golang-migrate) holds a PostgreSQL advisory lock while it
 * migrates, and marks the schema dirty meanwhile.
 */
export async function migrationRunning(s: StackSettings): Promise<boolean> {
    const r = await run("psql", ["-qAtX", "--no-password", "-c",
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"], pgEnvOf(s));
    return r.code === 0 && r.out !== "0";
}
