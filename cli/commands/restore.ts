// deployctl restore: the restore drill, into a scratch database.
import { Command } from "commander";
import * as fs from "fs";
import * as path from "path";
import { DEFAULTS } from "../../components/config";
import { flag, openStack, pj, RefusedError, requireStack, stackOption, UsageError } from "../common";
import { COUNT_ROWS_SQL, compareCounts, countsTable, parseCounts } from "../drill";
import { run, sha256File } from "../live";

interface RestoreOptions {
    stack?: string; dump?: string; into?: string; keep?: boolean;
}

export function registerRestore(program: Command): void {
    program.command("restore")
        .summary("restore drill: restore a dump into a scratch database and compare row counts")
        .usage("--stack S --dump FILE [--into SCRATCH_DB] [--keep]")
        .description("Restore drill: restores a dump into a scratch database (never the live one), checks it against its line in SHA256SUMS, and compares every table's row count with the live database (exit code 1 if any differ).")
        .addOption(stackOption())
        .addOption(flag("--dump <FILE>", "the dump to restore (required)"))
        .addOption(flag("--into <SCRATCH_DB>", "the scratch database's name (default: restore_drill_<time>)"))
        .addOption(flag("--keep", "keep the scratch database"))
        .addHelpText("after", "\nexample: deployctl restore --stack prod --dump /var/backups/api-server/pre_release_v1.4.0_20261123T101500Z.dump")
        .action((opts: RestoreOptions) => cmdRestoreDrill(opts));
}

/**
 * Restore drill: restores a dump into a scratch database (never the live one)
 * and compares every table's row count with the stack's database.
 */
async function cmdRestoreDrill(v: RestoreOptions): Promise<void> {
    const dump = v.dump;
    if (!dump) throw new UsageError("--dump FILE is required");
    if (!fs.existsSync(dump)) throw new RefusedError(`dump ${dump} does not exist`);
    const stack = await openStack(requireStack(v));
    const cfg = await stack.getAllConfig();
    const get = (k: string) => cfg[pj(k)]?.value ?? DEFAULTS[k];
    const password = (await stack.getConfig(pj("dbPassword")).catch(() => undefined))?.value;
    if (!password) throw new RefusedError(`${pj("dbPassword")} is not set on stack ${stack.name}`);
    const live = get("dbName");
    const into = v.into ?? `restore_drill_${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}`;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(into)) throw new UsageError(`--into ${JSON.stringify(into)} is invalid: must be a PostgreSQL identifier`);
    if (into === live) throw new RefusedError(`--into ${into} is the stack's live database; a drill only restores into a scratch database`);
    const env = { ...process.env, PGHOST: get("dbHost"), PGPORT: get("dbPort"), PGUSER: get("dbUser"), PGPASSWORD: password };
    const sums = path.join(path.dirname(dump), "SHA256SUMS");
    if (fs.existsSync(sums)) {
        const line = fs.readFileSync(sums, "utf8").split("\n").find(l => l.endsWith(`  ${path.basename(dump)}`));
        if (line && line.split(" ")[0] !== sha256File(dump)) throw new RefusedError(`dump ${dump} does not match its sha256 in ${sums}`);
    }
    const list = await run("pg_restore", ["--list", dump], env);
    if (list.code !== 0) throw new RefusedError(`dump ${dump} is unreadable: ${list.out.split("\n")[0]}`);
    const exists = await run("psql", ["-qAtX", "-d", "postgres", "-c", `SELECT 1 FROM pg_database WHERE datname = '${into}'`], env);
    if (exists.out === "1") throw new RefusedError(`database ${into} already exists; choose another --into`);
    const created = await run("createdb", [into], env);
    if (created.code !== 0) throw new Error(`createdb ${into} failed: ${created.out}`);
    try {
        const restored = await run("pg_restore", ["--no-owner", "--exit-on-error", "-d", into, dump], env);
        if (restored.code !== 0) throw new Error(`pg_restore into ${into} failed: ${restored.out.split("\n")[0]}`);
        const count = async (db: string) => parseCounts((await run("psql", ["-qAtX", "-d", db, "-c", COUNT_ROWS_SQL], env)).out);
        const rows = compareCounts(await count(into), await count(live));
        console.log(`restored ${path.basename(dump)} into ${into}; row counts against ${live}:`);
        console.log(countsTable(rows));
        if (rows.length === 0) throw new Error(`the restored copy has no tables: nothing to verify (is ${path.basename(dump)} a dump of ${live}?)`);
        const bad = rows.filter(r => !r.match);
        if (bad.length > 0) throw new Error(`${bad.length} of ${rows.length} tables differ from ${live} (writes since the dump, or a bad dump)`);
        console.log(`deployctl: restore drill passed: ${rows.length} tables, every row count matches ${live}`);
    } finally {
        if (v.keep !== true) await run("dropdb", ["--if-exists", into], env);
    }
}
