// Faults in the middle of a deploy, on the real engine, PostgreSQL and Docker. Each case checks what was
// preserved: the previous release keeps serving, no dump is lost or half-written under its final name,
// the stack's outputs do not claim a release that is not running, and the next `up` after the fix succeeds.
import { spawn } from "child_process";
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { ReleaseRecord } from "../../components/record";
import { columns, exec, freePort, health, pg, psql, Result, ref, releases, ROOT, schemaVersion, tmpDir } from "../support/infra";
import { TestStack } from "../support/stack";

describe("faults mid-deploy (real engine)", function () {
    this.timeout(300000);
    const rel = releases();
    let s: TestStack;

    before(async () => {
        s = await TestStack.create("fault");
        for (const v of ["v1.0.0", "v1.1.0"]) {
            const r = s.deploy(v);
            expect(r.code, r.stderr).to.equal(0);
        }
    });
    after(() => s?.cleanup());

    /** What must hold after any fault: v1.1.0 serves, the outputs say v1.1.0, no partial dump files. */
    async function preserved(): Promise<void> {
        expect((await health(s.port))?.body.version, "the previous release keeps serving").to.equal("v1.1.0");
        expect((s.outputs().releaseRecord as ReleaseRecord).version, "the outputs do not claim the failed release").to.equal("v1.1.0");
        expect(fs.readdirSync(s.backupDir).filter(f => f.includes(".partial")), "no half-written dump").to.deep.equal([]);
        for (const d of s.dumps()) {
            expect(exec("pg_restore", ["--list", path.join(s.backupDir, d)]).code, `${d} is a complete dump`).to.equal(0);
        }
    }

    /** The fix is in place: deploying v1.1.0 again succeeds and serves. */
    async function recovers(): Promise<void> {
        const r = s.deploy("v1.1.0");
        expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
        expect((await health(s.port))?.body.version).to.equal("v1.1.0");
        expect((s.outputs().releaseRecord as ReleaseRecord).version).to.equal("v1.1.0");
    }

    const failed = (r: Result, text: string | RegExp) => {
        expect(r.code, r.stdout).to.equal(1);
        if (typeof text === "string") expect(r.stdout + r.stderr, `${r.stdout}\n${r.stderr}`).to.include(text);
        else expect(r.stdout + r.stderr, `${r.stdout}\n${r.stderr}`).to.match(text);
    };

    it("database unreachable: deployctl refuses before anything changes, and the backup step fails cleanly", async () => {
        const dumps = s.dumps();
        s.pulumiOk(["config", "set", "dbPort", String(await freePort())]);
        try {
            const config = s.config();
            const r = s.deploy("v1.0.0");
            expect(r.code, r.stdout + r.stderr).to.equal(2);
            expect(r.stderr.trim()).to.match(/^deployctl: cannot read the live schema of \S+ at 127\.0\.0\.1:\d+: .*; nothing was changed$/);
            expect(s.config()).to.equal(config);
            // A plain pulumi up of another release gets as far as the backup, which fails before any change.
            s.setRelease("v1.0.0");
            const up = s.pulumi(["up", "--yes", "--skip-preview"]);
            expect(up.code).to.not.equal(0);
            expect(up.stdout + up.stderr, up.stdout + up.stderr).to.include("backup failed: database");
            expect(up.stdout + up.stderr).to.include("is not reachable; nothing was changed");
            expect(s.dumps()).to.deep.equal(dumps);
            fs.writeFileSync(s.configFile, config);
            await preserved();
        } finally {
            s.pulumiOk(["config", "set", "dbPort", pg().PGPORT]);
        }
        await recovers();
    });

    it("backup directory full or read-only: no dump under a final name, nothing changes", async function () {
        const mnt = tmpDir("full-backups");
        if (exec("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]).code !== 0) {
            this.skip(); // needs CAP_SYS_ADMIN to mount a small filesystem
        }
        try {
            fs.writeFileSync(path.join(mnt, "filler"), Buffer.alloc(64 * 1024));
            s.pulumiOk(["config", "set", "backupDir", path.join(mnt, "dumps")]);
            // pg_dump may even exit 0 on a full disk; the verification catches the short file.
            failed(s.deploy("v1.0.0"), /backup failed: (pg_dump exited with an error|cannot write the dump to .* \(disk full or read-only\?\)|dump is unreadable \(pg_restore --list failed\)); nothing was changed/);
            expect(fs.readdirSync(path.join(mnt, "dumps"))).to.deep.equal([]);
            await preserved();

            exec("umount", [mnt]);
            expect(exec("mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", mnt]).code).to.equal(0);
            failed(s.deploy("v1.0.0"), "backup failed: cannot create");
            await preserved();
        } finally {
            exec("umount", [mnt]);
            s.pulumiOk(["config", "set", "backupDir", s.backupDir]);
        }
        await recovers();
    });

    it("image digest missing from the registry: fails at the pull, before the backup and any schema or container change", async () => {
        const missing = "sha256:" + "0".repeat(64);
        const dumps = s.dumps();
        const r = s.deployctl(["deploy", "--version", "v1.0.0", "--image", rel["v1.0.0"].image, "--digest", missing,
            "--sha", rel["v1.0.0"].gitSha, "--schema", "1"]);
        failed(r, `Unable to read Docker image into resource: unable to pull image ${rel["v1.0.0"].image}@${missing}`);
        expect(r.stderr.trim().split("\n").pop(), "the last line names the cause and what serves").to.match(/pull image .*v1\.1\.0/);
        expect(s.dumps(), "no backup was taken").to.deep.equal(dumps);
        // The backup deployctl started with the update was stopped before it became a dump.
        expect(r.stdout).to.include("the backup started with the update was not needed (no backup step took it); it was stopped before it became a dump");
        expect(schemaVersion(s.db)).to.equal(2);
        await preserved();
        await recovers();
    });

    it("a migration that fails halfway: the tool's message, no half-applied schema, documented recovery", async () => {
        psql("INSERT INTO items (name, note) VALUES ('kept', 'before the broken release')", s.db);
        failed(s.deploy("v1.2.0"), "nonexistent_type");
        expect(columns("items", s.db), "the failed file was rolled back as a whole").to.not.include("broken_half");
        expect(psql("SELECT dirty FROM schema_migrations", s.db)).to.equal("t");
        expect(psql("SELECT count(*) FROM items WHERE name = 'kept'", s.db)).to.equal("1");
        expect(s.dumps().some(d => d.startsWith("pre_release_v1.2.0_")), "verified dump taken before the migration").to.equal(true);
        await preserved();

        // Retrying the release is refused before anything changes, naming the recovery command...
        const retry = s.deploy("v1.2.0");
        expect(retry.code, retry.stdout + retry.stderr).to.equal(2);
        expect(retry.stderr).to.include("the database is dirty at schema 3");
        expect(retry.stderr).to.include(`deployctl force-schema 2 --stack ${s.name} --yes`);
        // ...and so is a plain pulumi up of it, in the migration step.
        s.setRelease("v1.2.0");
        const plain = s.pulumi(["up", "--yes", "--skip-preview"]);
        expect(plain.code).to.not.equal(0);
        expect(plain.stdout + plain.stderr).to.include("migrations failed: the database is dirty at schema 3");
        await preserved();
        // ...which the operator runs after checking the schema (README: "A migration failed halfway").
        const p = pg(s.db);
        const url = `postgres://${p.PGUSER}:${encodeURIComponent(p.PGPASSWORD)}@127.0.0.1:${p.PGPORT}/${s.db}?sslmode=disable`;
        const force = exec("docker", ["run", "--rm", "--network", "host", "-e", "DATABASE_URL", "--entrypoint", "/migrate", ref(rel["v1.1.0"]), "force", "2"], { DATABASE_URL: url });
        expect(force.code, force.stderr).to.equal(0);
        await recovers();
        expect(schemaVersion(s.db)).to.equal(2);
    });

    it("the new container never turns healthy: the previous one is started again", async () => {
        s.pulumiOk(["config", "set", "--path", "appEnv.HEALTH_FAIL", "1"]);
        s.pulumiOk(["config", "set", "smokeRetries", "3"]);
        failed(s.deploy("v1.0.0"), "the previous container was started again and answers");
        await preserved();
        s.pulumiOk(["config", "rm", "appEnv"]);
        s.pulumiOk(["config", "set", "smokeRetries", "10"]);
        await recovers();
    });

    it("the engine killed while migrations run: the lock is reported, pulumi cancel clears it, the next up finishes the release", async () => {
        const r = rel["v1.3.0"]; // its migration 003 sleeps 8 s before adding items.priority
        const child = spawn("node", [path.join(ROOT, "dist", "cli", "deployctl.js"), "deploy", "--stack", s.name, "--version", r.version,
            "--image", r.image, "--digest", r.digest, "--sha", r.gitSha, "--schema", String(r.schemaVersion)],
        { env: { ...process.env, ...s.env }, cwd: ROOT, detached: true, stdio: "ignore" });
        let migrating = false;
        for (let i = 0; i < 300 && !migrating; i++) {
            migrating = psql(`SELECT count(*) FROM pg_stat_activity WHERE datname = '${s.db}' AND query LIKE '%pg_sleep(8)%' AND pid <> pg_backend_pid()`, "postgres") !== "0";
            if (!migrating) await new Promise(res => setTimeout(res, 100));
        }
        expect(migrating, "the migration was running when the engine was killed").to.equal(true);
        process.kill(-child.pid!, "SIGKILL");
        await preserved();

        const refusedRun = s.deploy("v1.3.0");
        expect(refusedRun.code).to.equal(2);
        expect(refusedRun.stderr).to.include("is locked by another update in progress");

        s.pulumiOk(["cancel", "--yes"]);
        const again = s.deploy("v1.3.0");
        expect(again.code, `${again.stdout}\n${again.stderr}`).to.equal(0);
        expect((await health(s.port))?.body.version).to.equal("v1.3.0");
        expect(schemaVersion(s.db)).to.equal(3);
        expect(psql("SELECT dirty FROM schema_migrations", s.db)).to.equal("f");
        expect(columns("items", s.db)).to.include("priority");
        await recovers(); // and back to v1.1.0 for the cases after this one
    });

    it("restore drill: a dump restored into a scratch database matches the source's row counts", () => {
        const dump = path.join(tmpDir("drill"), "now.dump");
        expect(exec("pg_dump", ["-Fc", "-f", dump], pg(s.db)).code).to.equal(0);
        const ok = s.deployctl(["restore", "--dump", dump]);
        expect(ok.code, ok.stderr).to.equal(0);
        expect(ok.stdout).to.match(/public\.items\s+\d+\s+\d+\n/);
        expect(ok.stdout).to.include("restore drill passed");
        psql("INSERT INTO items (name) VALUES ('after the dump')", s.db);
        const differs = s.deployctl(["restore", "--dump", dump]);
        expect(differs.code).to.equal(1);
        expect(differs.stdout).to.match(/public\.items .* differs/);
        expect(differs.stderr).to.include("1 of 2 tables differ");
        const live = s.deployctl(["restore", "--dump", dump, "--into", s.db]);
        expect(live.code).to.equal(2);
        expect(live.stderr).to.include("is the stack's live database");
        expect(psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'restore_drill_%'", "postgres")).to.equal("0");
    });

    it("never put the database password in any deployctl output or the state", () => {
        expect(s.rawState()).to.not.include(pg().PGPASSWORD);
    });
});
