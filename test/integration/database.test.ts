// The backup, migration and restore scripts against the real PostgreSQL and the release images.
import { expect } from "chai";
import { execSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { BackupAhead, backupFingerprint } from "../../cli/backupAhead";
import { backupScript, BackupResult } from "../../components/databaseBackup";
import { restoreScript } from "../../components/databaseRestore";
import { migrateScript } from "../../components/migrations";
import { databaseUrl } from "../../components/config";
import { ArtifactResult, artifactScript } from "../../components/releaseArtifact";
import { lastJsonLine } from "../../components/shell";
import {
    columns, createDb, dropDb, exec, pg, psql, ref, releases, runScript, schemaVersion, sha256, tmpDir, uniq,
} from "../support/infra";

function backup(db: string, dir: string, extra: Record<string, string> = {}) {
    return runScript(backupScript(), {
        ...pg(db), BACKUP_DIR: dir, RELEASE_VERSION: "v1.1.0", BACKUP_PREFIX: "pre_release", BACKUP_VERIFY: "restore", BACKUP_RETAIN: "0", ...extra,
    });
}

const MIGRATE_DEFAULTS = { MIGRATE_CMD: "/migrate", MIGRATIONS_DIR: "/migrations", SCHEMA_MIN: "", SCHEMA_MAX: "", REQUIRE_DOWN: "false", STACK: "it" };

function migrate(db: string, image: string, target: number, mode = "keep", downImage = "", extra: Record<string, string> = {}) {
    const p = pg(db);
    return runScript(migrateScript(), {
        ...MIGRATE_DEFAULTS, IMAGE_REF: image, TARGET: String(target), DB_MODE: mode, DOWN_IMAGE: downImage, ...extra,
        DATABASE_URL: databaseUrl({ host: p.PGHOST, port: Number(p.PGPORT), database: db, user: p.PGUSER }, p.PGPASSWORD),
    });
}

describe("database scripts (real PostgreSQL)", function () {
    this.timeout(120000);
    const rel = releases();
    const dbs: string[] = [];
    const newDb = (prefix: string) => { const n = uniq(prefix); createDb(n); dbs.push(n); return n; };
    after(() => dbs.forEach(dropDb));

    describe("backup", () => {
        it("writes a verified, checksummed pg_dump -Fc that restores, under its final name only", () => {
            const db = newDb("it_backup");
            psql("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 500)", db);
            const dir = tmpDir("backups");
            const r = backup(db, dir);
            expect(r.code, r.stderr).to.equal(0);
            const res = lastJsonLine<BackupResult>(r.stdout);
            expect(path.basename(res.path)).to.match(/^pre_release_v1\.1\.0_\d{8}T\d{6}Z\.dump$/);
            expect(res.verified).to.equal("restore");
            expect(res.sha256).to.equal(sha256(res.path));
            expect(res.bytes).to.equal(fs.statSync(res.path).size);
            expect(fs.readdirSync(dir).filter(f => f.includes(".partial"))).to.deep.equal([]);
            expect(fs.readFileSync(path.join(dir, "SHA256SUMS"), "utf8")).to.include(`${res.sha256}  ${path.basename(res.path)}`);
            const copy = newDb("it_restored");
            const restored = exec("pg_restore", ["--no-owner", "-d", copy, res.path], pg(copy));
            expect(restored.code, restored.stderr).to.equal(0);
            expect(psql("SELECT count(*) FROM t", copy)).to.equal("500");
            expect(psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'verify_%'", "postgres")).to.equal("0");
        });

        it("never overwrites an existing dump taken in the same second", () => {
            const db = newDb("it_backup_twice");
            const dir = tmpDir("backups");
            const a = lastJsonLine<BackupResult>(backup(db, dir).stdout);
            const b = lastJsonLine<BackupResult>(backup(db, dir).stdout);
            expect(a.path).to.not.equal(b.path);
            expect(fs.existsSync(a.path) && fs.existsSync(b.path)).to.equal(true);
        });

        it("fails with a clear message and writes nothing when the database is unreachable", () => {
            const dir = tmpDir("backups");
            const closed = { PGPORT: "1" };
            const r = runScript(backupScript(), { ...pg("app"), ...closed, BACKUP_DIR: dir, RELEASE_VERSION: "v1.1.0", BACKUP_PREFIX: "pre_release", BACKUP_VERIFY: "restore", BACKUP_RETAIN: "0" });
            expect(r.code).to.not.equal(0);
            expect(r.stderr).to.include("is not reachable; nothing was changed");
            expect(fs.readdirSync(dir)).to.deep.equal([]);
        });

        it("fails with a clear message when the backup directory cannot be created", () => {
            const r = backup(newDb("it_backup_dir"), "/dev/null/backups");
            expect(r.code).to.not.equal(0);
            expect(r.stderr).to.include("backup failed: cannot create /dev/null/backups");
        });

        it("keeps only the newest N dumps when retention is set, and every dump when it is 0", () => {
            const db = newDb("it_backup_retain");
            const dir = tmpDir("backups");
            for (let i = 0; i < 3; i++) expect(backup(db, dir, { BACKUP_RETAIN: "0" }).code).to.equal(0);
            expect(fs.readdirSync(dir).filter(f => f.endsWith(".dump"))).to.have.length(3);
            const last = lastJsonLine<BackupResult>(backup(db, dir, { BACKUP_RETAIN: "2" }).stdout);
            const left = fs.readdirSync(dir).filter(f => f.endsWith(".dump"));
            expect(left).to.have.length(2);
            expect(left).to.include(path.basename(last.path));
        });
    });

    describe("a backup deployctl starts with the update (cli/backupAhead.ts)", () => {
        const settings = (db: string, dir: string) => ({
            ...pg(db), BACKUP_DIR: dir, RELEASE_VERSION: "v1.1.0", BACKUP_PREFIX: "pre_release", BACKUP_VERIFY: "restore", BACKUP_RETAIN: "0",
        });
        const dumpsIn = (dir: string) => fs.readdirSync(dir).filter(f => f.endsWith(".dump"));
        const leftIn = (dir: string) => fs.readdirSync(dir).filter(f => f.includes(".partial."));
        const scratchDbs = () => Number(psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'verify\\_%'", "postgres"));
        const until = async (cond: () => boolean, what: string) => {
            for (let i = 0; i < 400 && !cond(); i++) await new Promise(res => setTimeout(res, 50));
            expect(cond(), what).to.equal(true);
        };

        it("is taken by the backup step with the same settings, once: the step waits for it and takes no dump of its own", async () => {
            const db = newDb("it_ahead");
            psql("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 500)", db);
            const dir = tmpDir("backups");
            const ahead = BackupAhead.start(settings(db, dir));
            const r = runScript(backupScript(), { ...settings(db, dir), ...ahead.env });
            expect(r.code, r.stderr).to.equal(0);
            expect(r.stdout).to.include("backup: taken by deployctl from the start of the update, with this step's settings");
            const res = lastJsonLine<BackupResult>(r.stdout);
            expect(res.verified).to.equal("restore");
            expect(res.sha256).to.equal(sha256(res.path));
            expect(dumpsIn(dir)).to.deep.equal([path.basename(res.path)]);
            expect(fs.readFileSync(path.join(dir, "SHA256SUMS"), "utf8")).to.include(`${res.sha256}  ${path.basename(res.path)}`);
            // A second step with the same settings (another update) finds it taken and takes its own.
            const again = runScript(backupScript(), { ...settings(db, dir), ...ahead.env });
            expect(again.code, again.stderr).to.equal(0);
            expect(again.stdout).to.include("was already taken by another step; this step takes its own");
            expect(dumpsIn(dir)).to.have.length(2);
            expect(await ahead.finish()).to.equal(undefined);
        });

        it("never becomes a dump unless a step claims it: verified, it waits, and is stopped after the update with nothing left", async () => {
            const db = newDb("it_ahead_unclaimed");
            const dir = tmpDir("backups");
            const scratch = scratchDbs();
            const ahead = BackupAhead.start(settings(db, dir));
            await until(() => ahead.verified, "the run verified its dump");
            await new Promise(res => setTimeout(res, 300));
            expect(ahead.ended, "it waits for a claim").to.equal(false);
            expect(dumpsIn(dir), "no dump under a final name").to.deep.equal([]);
            expect(fs.existsSync(path.join(dir, "SHA256SUMS")), "no SHA256SUMS line").to.equal(false);
            expect(await ahead.finish()).to.equal("the backup started with the update was not needed (no backup step took it); it was stopped before it became a dump and removed its partial dump and scratch database");
            expect(fs.readdirSync(dir)).to.deep.equal([]);
            expect(scratchDbs()).to.equal(scratch);
        });

        it("is stopped by a step with other settings, which takes its own dump: one dump, the step's", async () => {
            const db = newDb("it_ahead_other");
            const dir = tmpDir("backups");
            const ahead = BackupAhead.start(settings(db, dir));
            const r = runScript(backupScript(), { ...settings(db, dir), RELEASE_VERSION: "v1.2.0", ...ahead.env });
            expect(r.code, r.stderr).to.equal(0);
            expect(r.stdout).to.include("has other settings; stopping it, this step takes its own");
            expect(ahead.ended, "the run has ended when the step is done").to.equal(true);
            expect(dumpsIn(dir)).to.deep.equal([path.basename(lastJsonLine<BackupResult>(r.stdout).path)]);
            expect(dumpsIn(dir)[0]).to.match(/^pre_release_v1\.2\.0_/);
            expect(leftIn(dir)).to.deep.equal([]);
            expect(await ahead.finish()).to.match(/not needed \(no backup step took it\); it was stopped before it became a dump/);
        });

        it("is stopped by the migration step when no backup step took it, before any migration runs", async () => {
            const db = newDb("it_ahead_migrate");
            const dir = tmpDir("backups");
            const ahead = BackupAhead.start(settings(db, dir));
            await until(() => ahead.verified, "the run verified its dump");
            const m = migrate(db, ref(rel["v1.0.0"]), 1, "keep", "", ahead.env);
            expect(m.code, m.stderr).to.equal(0);
            expect(m.stdout).to.include("migrations: stopping the backup deployctl started with the update, which no backup step took");
            expect(ahead.ended).to.equal(true);
            expect(fs.readdirSync(dir)).to.deep.equal([]);
            await ahead.finish();
        });

        it("fails the step with its own failure", async () => {
            const dir = tmpDir("backups");
            const env = { ...settings("it_no_such_database", dir) };
            const ahead = BackupAhead.start(env);
            const r = runScript(backupScript(), { ...env, ...ahead.env });
            expect(r.code).to.equal(1);
            expect(r.stderr).to.include("backup failed: pg_dump exited with an error; nothing was changed");
            expect(await ahead.finish()).to.equal(undefined);
            expect(dumpsIn(dir)).to.deep.equal([]);
        });

        it("is replaced by the step's own dump when it ended without a result", () => {
            const db = newDb("it_ahead_dead");
            const dir = tmpDir("backups");
            const handoff = tmpDir("ahead");
            fs.writeFileSync(path.join(handoff, "pid"), `${spawnSync("true").pid}\n`);
            fs.writeFileSync(path.join(handoff, "fingerprint"), `${backupFingerprint(settings(db, dir))}\n`);
            const r = runScript(backupScript(), { ...settings(db, dir), BACKUP_AHEAD: handoff });
            expect(r.code, r.stderr).to.equal(0);
            expect(r.stdout).to.include("ended without a result; this step takes its own");
            expect(dumpsIn(dir)).to.have.length(1);
        });

        it("is stopped mid-dump with its partial dump and scratch database removed, and when deployctl is killed", async () => {
            const db = newDb("it_ahead_stop");
            psql("CREATE TABLE t (id int)", db);
            const scratch = scratchDbs();
            // pg_dump waits for a table another session holds exclusively, so each run is caught mid-dump.
            const locker = spawn("psql", ["-qAtX", "-c", "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60)"], { env: { ...process.env, ...pg(db) }, stdio: "ignore" });
            try {
                await until(() => psql("SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 't'::regclass", db) === "1", "the lock is held");
                const dir = tmpDir("backups");
                const ahead = BackupAhead.start(settings(db, dir));
                await until(() => leftIn(dir).length === 1 && scratchDbs() === scratch + 1, "a partial dump and a scratch database while pg_dump waits");
                expect(await ahead.finish()).to.match(/not needed \(no backup step took it\); it was stopped before it became a dump and removed its partial dump and scratch database/);
                expect(fs.readdirSync(dir)).to.deep.equal([]);
                expect(scratchDbs()).to.equal(scratch);

                // deployctl killed outright: the run's lifeline (its stdin) closes, and it stops and cleans up the same way.
                const killedDir = tmpDir("backups");
                const script = `const { BackupAhead } = require(${JSON.stringify(path.join(__dirname, "..", "..", "cli", "backupAhead"))});
                    const a = BackupAhead.start(JSON.parse(process.env.SETTINGS)); console.log(a.env.BACKUP_AHEAD); setInterval(() => undefined, 1000);`;
                const tool = spawn(process.execPath, ["-e", script], { env: { ...process.env, SETTINGS: JSON.stringify(settings(db, killedDir)) }, stdio: ["ignore", "pipe", "inherit"] });
                await until(() => leftIn(killedDir).length === 1 && scratchDbs() === scratch + 1, "the killed tool's run is mid-dump");
                tool.kill("SIGKILL");
                await until(() => fs.readdirSync(killedDir).length === 0 && scratchDbs() === scratch, "the run stopped and cleaned up after its tool was killed");
            } finally {
                locker.kill();
            }
        });
    });

    describe("leftovers of a killed backup", () => {
        it("removes partial files and scratch databases whose process is gone, and never a complete dump or a live one's", () => {
            const db = newDb("it_leftovers");
            const dir = tmpDir("it-leftovers");
            const dead = spawnSync("true").pid!; // a process that has exited
            const host = execSync('printf "%s" "$HOSTNAME" | cksum | cut -c1-6', { shell: "/bin/bash" }).toString().trim();
            const complete = path.join(dir, "pre_release_v1.0.0_20260101T000000Z.dump");
            const deadPartial = `${complete}.partial.${dead}`;
            const livePartial = path.join(dir, `pre_release_v1.0.0_20260101T000001Z.dump.partial.${process.pid}`);
            for (const f of [complete, deadPartial, livePartial]) fs.writeFileSync(f, "x");
            const deadScratch = `verify_20260101t000000z_${host}_${dead}`;
            const liveScratch = `verify_20260101t000000z_${host}_${process.pid}`;
            createDb(deadScratch);
            createDb(liveScratch);
            try {
                const r = backup(db, dir);
                expect(r.code, r.stderr).to.equal(0);
                expect(r.stdout).to.include(`removing ${path.basename(deadPartial)}, left by a killed backup`);
                expect(r.stdout).to.include(`dropping scratch database ${deadScratch}`);
                expect(fs.existsSync(deadPartial)).to.equal(false);
                expect(fs.existsSync(livePartial), "a running backup's file is kept").to.equal(true);
                expect(fs.readFileSync(complete, "utf8"), "a complete dump is never touched").to.equal("x");
                const dbs = psql("SELECT string_agg(datname, ',') FROM pg_database WHERE datname LIKE 'verify%'", "postgres");
                expect(dbs).to.include(liveScratch);
                expect(dbs).to.not.include(deadScratch);
            } finally {
                dropDb(liveScratch);
                dropDb(deadScratch);
            }
        });
    });

    describe("migrations from the release image", () => {
        it("moves a fresh database up to each release's schema version", () => {
            const db = newDb("it_migrate");
            const r1 = migrate(db, ref(rel["v1.0.0"]), 1);
            expect(r1.code, r1.stderr).to.equal(0);
            expect(lastJsonLine(r1.stdout)).to.deep.equal({ from: 0, to: 1, dirty: false });
            expect(columns("items", db)).to.deep.equal(["id", "name", "created_at"]);
            const r2 = migrate(db, ref(rel["v1.1.0"]), 2);
            expect(lastJsonLine(r2.stdout)).to.deep.equal({ from: 1, to: 2, dirty: false });
            expect(columns("items", db)).to.include("note");
            expect(schemaVersion(db)).to.equal(2);
        });

        it("keeps a newer schema in keep mode and runs the newer image's down files in down mode", () => {
            const db = newDb("it_migrate_down");
            expect(migrate(db, ref(rel["v1.1.0"]), 2).code).to.equal(0);
            const keep = migrate(db, ref(rel["v1.0.0"]), 1, "keep");
            expect(keep.stdout).to.include("schema 2 is ahead of 1 and is kept");
            expect(schemaVersion(db)).to.equal(2);
            const withOldImage = migrate(db, ref(rel["v1.0.0"]), 1, "down", ref(rel["v1.0.0"]));
            expect(withOldImage.code, "the old image has no 002 down file").to.not.equal(0);
            const down = migrate(db, ref(rel["v1.0.0"]), 1, "down", ref(rel["v1.1.0"]));
            expect(down.code, down.stderr).to.equal(0);
            expect(schemaVersion(db)).to.equal(1);
            expect(columns("items", db)).to.not.include("note");
        });

        it("takes the backup step's clean reading in an app-only rollback without starting the tool, and only when nothing can run", () => {
            const db = newDb("it_migrate_read");
            expect(migrate(db, ref(rel["v1.1.0"]), 2).code).to.equal(0);
            // An image that cannot be pulled: the step succeeds only if it starts no container.
            const missing = `127.0.0.1:5000/acme/none@sha256:${"0".repeat(64)}`;
            const justNow = `2@${Math.floor(Date.now() / 1000)}`;
            const taken = migrate(db, missing, 1, "keep", "", { BACKUP_TAKEN: "none", BACKUP_SCHEMA: justNow, SCHEMA_MIN: "1", SCHEMA_MAX: "3" });
            expect(taken.code, taken.stderr).to.equal(0);
            expect(taken.stdout).to.match(/migrations: schema 2, clean, as the backup step read it \ds ago/);
            expect(taken.stdout.trim().split("\n").pop()).to.equal('{"from":2,"to":2,"dirty":false}');
            // Outside the range the step still fails before anything switches.
            const outside = migrate(db, missing, 1, "keep", "", { BACKUP_TAKEN: "none", BACKUP_SCHEMA: justNow, SCHEMA_MIN: "1", SCHEMA_MAX: "1" });
            expect(outside.stderr).to.include("outside the range 1..1");
            // Behind the target, in down mode, after a dump, or with a reading older than a minute (the step
            // re-running alone on a change of its own inputs), the tool reads the schema itself.
            for (const [target, mode, extra] of <[number, string, Record<string, string>][]>[
                [3, "keep", { BACKUP_TAKEN: "none", BACKUP_SCHEMA: justNow }],
                [1, "down", { BACKUP_TAKEN: "none", BACKUP_SCHEMA: justNow }],
                [1, "keep", { BACKUP_TAKEN: "pre_release", BACKUP_SCHEMA: "" }],
                [1, "keep", { BACKUP_TAKEN: "none", BACKUP_SCHEMA: `2@${Math.floor(Date.now() / 1000) - 3600}` }],
                [1, "keep", { BACKUP_TAKEN: "none", BACKUP_SCHEMA: "2" }],
            ]) {
                const r = migrate(db, missing, target, mode, missing, extra);
                expect(r.code, JSON.stringify(extra)).to.not.equal(0);
                expect(r.stderr).to.include(`could not read the schema version with ${missing}`);
            }
            expect(schemaVersion(db)).to.equal(2);
        });

        it("fails when the result is outside the release's range, before anything switches", () => {
            const db = newDb("it_migrate_range");
            expect(migrate(db, ref(rel["v1.4.0"]), 4).code).to.equal(0);
            const r = migrate(db, ref(rel["v1.0.0"]), 1, "keep", "", { SCHEMA_MIN: "1", SCHEMA_MAX: "3" });
            expect(r.code).to.not.equal(0);
            expect(r.stderr).to.include("migrations failed: the database is at schema 4, outside the range 1..3 this release runs on; nothing was switched");
            expect(schemaVersion(db)).to.equal(4);
        });

        it("warns about an up-migration without its down file, or refuses it when the stack requires down files", () => {
            const db = newDb("it_migrate_downs");
            expect(migrate(db, ref(rel["v1.1.0"]), 2).code).to.equal(0);
            const refused = migrate(db, ref(rel["v1.6.0"]), 5, "keep", "", { REQUIRE_DOWN: "true" });
            expect(refused.code).to.not.equal(0);
            expect(refused.stderr).to.include("carries up-migrations without a down file: 005_add_tags.up.sql");
            expect(schemaVersion(db)).to.equal(2);
            const warned = migrate(db, ref(rel["v1.6.0"]), 5);
            expect(warned.code, warned.stderr).to.equal(0);
            expect(warned.stdout).to.include("migrations: warning: up-migrations without a down file: 005_add_tags.up.sql");
            expect(schemaVersion(db)).to.equal(5);
        });

        it("fails a broken migration with the tool's message, then refuses the dirty database", () => {
            const db = newDb("it_migrate_broken");
            const bad = migrate(db, ref(rel["v1.2.0"]), 3);
            expect(bad.code).to.not.equal(0);
            expect(bad.stderr).to.match(/nonexistent_type/);
            const again = migrate(db, ref(rel["v1.2.0"]), 3);
            expect(again.code).to.not.equal(0);
            expect(again.stderr).to.include("the database is dirty at schema 3");
            expect(again.stderr).to.include("deployctl force-schema 2 --stack it --yes");
        });

        it("fails when the database URL is wrong, with the tool's message", () => {
            const r = runScript(migrateScript(), {
                ...MIGRATE_DEFAULTS, IMAGE_REF: ref(rel["v1.0.0"]), TARGET: "1", DB_MODE: "keep", DOWN_IMAGE: "",
                DATABASE_URL: "postgres://app:wrong@127.0.0.1:5432/app?sslmode=disable",
            });
            expect(r.code).to.not.equal(0);
            expect(r.stderr).to.include("password authentication failed");
        });
    });

    describe("restore", () => {
        it("refuses a missing dump and a dump whose checksum differs, and restores a good one in place", () => {
            const db = newDb("it_restore");
            psql("CREATE TABLE t (v text); INSERT INTO t VALUES ('before')", db);
            const dir = tmpDir("backups");
            const dump = lastJsonLine<BackupResult>(backup(db, dir).stdout);
            psql("INSERT INTO t VALUES ('after'); CREATE TABLE extra (x int)", db);

            const missing = runScript(restoreScript(), { ...pg(db), RESTORE_DUMP: path.join(dir, "nope.dump"), RESTORE_SHA256: dump.sha256 });
            expect(missing.stderr).to.include("does not exist");
            const wrong = runScript(restoreScript(), { ...pg(db), RESTORE_DUMP: dump.path, RESTORE_SHA256: "0".repeat(64) });
            expect(wrong.code).to.not.equal(0);
            expect(wrong.stderr).to.include("but the release record says");
            expect(psql("SELECT count(*) FROM t", db)).to.equal("2");

            const ok = runScript(restoreScript(), { ...pg(db), RESTORE_DUMP: dump.path, RESTORE_SHA256: dump.sha256 });
            expect(ok.code, ok.stderr).to.equal(0);
            expect(psql("SELECT string_agg(v, ',') FROM t", db)).to.equal("before");
        });
    });
    describe("release bundle", () => {
        const env = (dir: string) => ({
            ARTIFACT_DIR: dir, RELEASE_VERSION: "v1.1.0", ARTIFACT_CONFIG: '{"release:version":"v1.1.0"}', ARTIFACT_RECORD: '{"version":"v1.1.0"}',
            ARTIFACT_IMAGES: `api ${ref(releases()["v1.1.0"])}`, IMAGE_REF: ref(releases()["v1.1.0"]), MIGRATE_CMD: "/migrate", MIGRATIONS_DIR: "/migrations",
        });

        it("writes the bundle under its final name only, with its SHA256SUMS line, listing the image's migration files", () => {
            const dir = tmpDir("bundles");
            const r = runScript(artifactScript(), env(dir));
            expect(r.code, r.stderr).to.equal(0);
            const res = lastJsonLine<ArtifactResult>(r.stdout);
            expect(path.basename(res.path)).to.match(/^release_v1\.1\.0_\d{8}T\d{6}Z\.tar\.gz$/);
            expect(res.sha256).to.equal(sha256(res.path));
            expect(fs.readdirSync(dir).sort()).to.deep.equal(["SHA256SUMS", path.basename(res.path)]);
            expect(fs.readFileSync(path.join(dir, "SHA256SUMS"), "utf8")).to.equal(`${res.sha256}  ${path.basename(res.path)}\n`);
            const listed = exec("tar", ["-xzOf", res.path, `${path.basename(res.path, ".tar.gz")}/migrations.txt`]).stdout.trim().split("\n");
            expect(listed).to.deep.equal(["001_create_items.down.sql", "001_create_items.up.sql", "002_add_items_note.down.sql", "002_add_items_note.up.sql"]);
        });

        it("never fails the update: a bundle that cannot be written is a warning and an error in its result", () => {
            const r = runScript(artifactScript(), env("/dev/null/bundles"));
            expect(r.code, r.stderr).to.equal(0);
            expect(r.stdout).to.include("artifact: not written: cannot create /dev/null/bundles; the release serves as deployed");
            expect(lastJsonLine<ArtifactResult>(r.stdout)).to.deep.equal({ path: "", sha256: "", bytes: 0, error: "cannot create /dev/null/bundles" });
            const missing = runScript(artifactScript(), { ...env(tmpDir("bundles")), IMAGE_REF: `${releases()["v1.1.0"].image}@sha256:${"0".repeat(64)}` });
            expect(missing.code, missing.stderr).to.equal(0);
            expect(lastJsonLine<ArtifactResult>(missing.stdout).error).to.match(/^cannot read \/migrations of .*@sha256:0{64}$/);
        });
    });
});
