// A throwaway stack of the real project for end-to-end tests: its own file://
// backend, passphrase, database, port, container name and backup directory.
import * as fs from "fs";
import * as path from "path";
import { toolEnv } from "../../cli/workspace";
import { HistoryRow } from "../../cli/history";
import {
    createDb, dropDb, exec, execAsync, freePort, pg, releases, removeContainer, Result, ROOT, tmpDir, uniq,
} from "./infra";

export class TestStack {
    readonly env: Record<string, string>;
    readonly configFile: string;

    private constructor(
        readonly name: string,
        readonly db: string,
        readonly port: number,
        readonly container: string,
        readonly backupDir: string,
        readonly backend: string,
    ) {
        const base = { ...process.env, PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "e2e-passphrase" } as NodeJS.ProcessEnv;
        this.env = { ...toolEnv(base, ROOT), PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "e2e-passphrase" };
        this.configFile = path.join(ROOT, `Pulumi.${name}.yaml`);
    }

    static async create(prefix: string): Promise<TestStack> {
        const id = uniq(prefix);
        const s = new TestStack(`e2e-${id.replace(/_/g, "-")}`, id, await freePort(), `e2e-${id.replace(/_/g, "-")}`, tmpDir("e2e-backups"), tmpDir("e2e-state"));
        createDb(s.db);
        s.pulumiOk(["stack", "init", s.name]);
        const set = (k: string, v: string, secret = false) => s.pulumiOk(["config", "set", ...(secret ? ["--secret"] : []), k, v]);
        set("dbName", s.db);
        set("appPort", String(s.port));
        set("appName", s.container);
        set("backupDir", s.backupDir);
        set("smokeRetries", "10");
        set("appDatabaseEnv", "DATABASE_URL");
        s.pulumiOk(["config", "set", "--path", "criticalEndpoints[0].path", "/items"]);
        s.pulumiOk(["config", "set", "--path", "criticalEndpoints[0].status", "200"]);
        set("dbPassword", pg().PGPASSWORD, true);
        return s;
    }

    pulumi(args: string[]): Result {
        return exec("pulumi", [...args, "--stack", this.name, "--non-interactive"], this.env, undefined, ROOT);
    }

    pulumiOk(args: string[]): string {
        const cmd = args[0] === "stack" && args[1] === "init"
            ? exec("pulumi", [...args, "--non-interactive"], this.env, undefined, ROOT)
            : this.pulumi(args);
        if (cmd.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed: ${cmd.stderr || cmd.stdout}`);
        return cmd.stdout;
    }

    /** Everything deployctl printed on this stack, for the secret checks. */
    transcript = "";

    deployctl(args: string[], extraEnv: Record<string, string> = {}): Result {
        const r = exec("node", [path.join(ROOT, "dist", "cli", "deployctl.js"), ...args, "--stack", this.name], { ...this.env, ...extraEnv }, "", ROOT);
        this.transcript += r.stdout + r.stderr;
        return r;
    }

    deployctlAsync(args: string[]): Promise<Result> {
        return execAsync("node", [path.join(ROOT, "dist", "cli", "deployctl.js"), ...args, "--stack", this.name], this.env, ROOT);
    }

    /** deployctl deploy of one of the test app's releases. */
    deploy(version: string, extra: string[] = []): Result {
        return this.deployctl(TestStack.deployArgs(version, extra));
    }

    /** The same, without blocking the event loop (for tests that send traffic meanwhile). */
    deployAsync(version: string, extra: string[] = []): Promise<Result> {
        return this.deployctlAsync(TestStack.deployArgs(version, extra));
    }

    private static deployArgs(version: string, extra: string[]): string[] {
        const r = releases()[version];
        return ["deploy", "--version", r.version, "--image", r.image, "--digest", r.digest, "--sha", r.gitSha,
            "--schema", String(r.schemaVersion), "--schema-min", String(r.schemaMin), "--schema-max", String(r.schemaMax),
            "--notes", `e2e ${version}`, ...extra];
    }

    /** Sets one release's keys in the stack config by hand, as an operator running plain `pulumi up` would. */
    setRelease(version: string): void {
        const r = releases()[version];
        const keys = { version: r.version, gitSha: r.gitSha, imageDigest: r.digest, schemaVersion: r.schemaVersion, schemaMin: r.schemaMin, schemaMax: r.schemaMax };
        for (const [k, v] of Object.entries(keys)) this.pulumiOk(["config", "set", `release:${k}`, String(v)]);
    }

    history(): HistoryRow[] {
        const r = this.deployctl(["history", "--json"]);
        if (r.code !== 0) throw new Error(`history failed: ${r.stderr}`);
        return JSON.parse(r.stdout);
    }

    outputs(): Record<string, unknown> {
        return JSON.parse(this.pulumiOk(["stack", "output", "--json"]));
    }

    dumps(): string[] {
        return fs.existsSync(this.backupDir) ? fs.readdirSync(this.backupDir).filter(f => f.endsWith(".dump")).sort() : [];
    }

    config(): string {
        return fs.readFileSync(this.configFile, "utf8");
    }

    /** The exported state's resources (real dependencies as the engine recorded them). */
    state(): { urn: string; type: string; dependencies?: string[]; outputs?: Record<string, unknown> }[] {
        return JSON.parse(this.pulumiOk(["stack", "export"])).deployment.resources;
    }

    /** The raw state file on disk. */
    rawState(): string {
        const files: string[] = [];
        const walk = (d: string) => fs.readdirSync(d, { withFileTypes: true }).forEach(e => {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p); else files.push(p);
        });
        walk(this.backend);
        return files.map(f => fs.readFileSync(f, "utf8")).join("\n");
    }

    /** Waits (up to 10 s) until an update holds the stack's lock in the file:// backend. */
    async waitForLock(): Promise<void> {
        const locks = path.join(this.backend, ".pulumi", "locks");
        for (let i = 0; i < 100; i++) {
            if (fs.existsSync(locks) && fs.readdirSync(locks, { recursive: true }).some(f => String(f).endsWith(".json"))) return;
            await new Promise(r => setTimeout(r, 100));
        }
        throw new Error(`no lock appeared for stack ${this.name}`);
    }

    cleanup(): void {
        this.pulumi(["destroy", "--yes", "--skip-preview"]);
        this.pulumi(["stack", "rm", "--yes", "--force"]);
        fs.rmSync(this.configFile, { force: true });
        // Behind a proxy the service's containers are <name>-<slot port>, and the proxy <name>-proxy.
        for (const c of [this.container, `${this.container}-${this.port}`, `${this.container}-${this.port + 1}`, `${this.container}-proxy`]) removeContainer(c);
        // A bundle's containers are <name>-<service>-<slot port>.
        const left = exec("docker", ["ps", "-aq", "--filter", `name=^/${this.container}-`]).stdout.split("\n").filter(Boolean);
        for (const id of left) removeContainer(id);
        dropDb(this.db);
        fs.rmSync(this.backend, { recursive: true, force: true });
    }
}
