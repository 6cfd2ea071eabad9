// Schema safety on the real engine, PostgreSQL and Docker: a keep rollback never puts a release on a
// schema it cannot use, down and restore rollbacks get past a destructive migration, a release whose
// critical endpoint fails after the switch is undone by an atomic update, a dirty schema has a tested
// recovery, and missing down files are reported before anything changes.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { ReleaseRecord } from "../../components/record";
import { exec, health, psql, Result, schemaVersion } from "../support/infra";
import { TestStack } from "../support/stack";

const ok = (r: Result) => expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
const lastLine = (r: Result) => r.stderr.trim().split("\n").pop() ?? "";

async function items(port: number): Promise<{ status: number; version?: string }> {
    try {
        const res = await fetch(`http://127.0.0.1:${port}/items`);
        const body = await res.json() as { version?: string };
        return { status: res.status, version: body.version };
    } catch {
        return { status: 0 };
    }
}

describe("schema safety end to end (real engine)", function () {
    this.timeout(600000);

    describe("a destructive release (v1.4.0 renames the table older releases read)", () => {
        let s: TestStack;
        before(async () => {
            s = await TestStack.create("schema");
            for (const v of ["v1.0.0", "v1.1.0", "v1.4.0"]) ok(s.deploy(v));
        });
        after(() => s?.cleanup());
        const running = async () => (await health(s.port))?.body.version;

        it("refuses a keep rollback (and its preview) onto a schema outside the target's range, with nothing changed", async () => {
            expect(schemaVersion(s.db)).to.equal(4);
            const config = s.config();
            const historyLength = s.history().length;
            for (const args of [["rollback", "v1.0.0"], ["rollback", "v1.0.0", "--preview"], ["rollback", "previous", "--db", "keep"]]) {
                const r = s.deployctl(args);
                expect(r.code, r.stdout + r.stderr).to.equal(2);
                expect(lastLine(r)).to.match(/^deployctl: v1\.(0|1)\.0 runs on schema (1|2)\.\.3, but the database is at schema 4, so an app-only rollback \(--db keep\) would leave it on a schema it cannot use; nothing was changed\. Use --db down .* or --db restore .*$/);
            }
            expect(s.config()).to.equal(config);
            expect(s.history()).to.have.length(historyLength);
            expect(await running()).to.equal("v1.4.0");
            expect((await items(s.port)).status).to.equal(200);
        });

        it("refuses to deploy an older release whose range excludes the schema it would run on", async () => {
            const config = s.config();
            const r = s.deploy("v1.1.0");
            expect(r.code).to.equal(2);
            expect(lastLine(r)).to.match(/^deployctl: v1\.1\.0 runs on schema 2\.\.3, but the database is at schema 4 and a schema ahead of the target is kept; nothing was changed/);
            expect(s.config()).to.equal(config);
            expect(await running()).to.equal("v1.4.0");
        });

        it("rolls back with --db down past the destructive migration: v1.0.0 serves on schema 1 and its critical endpoint works", async () => {
            ok(s.deployctl(["rollback", "v1.0.0", "--db", "down"]));
            expect(await running()).to.equal("v1.0.0");
            expect(schemaVersion(s.db)).to.equal(1);
            expect(await items(s.port)).to.deep.equal({ status: 200, version: "v1.0.0" });
            const rec = s.outputs().releaseRecord as ReleaseRecord;
            expect(rec.liveSchema).to.deep.equal({ version: 1, dirty: false });
            expect(rec.schemaRange).to.equal("1..3");
        });

        it("rolls back with --db restore past it: a safety dump named for the data it holds, then v1.0.0 on the restored schema 1", async () => {
            ok(s.deploy("v1.4.0"));
            psql("INSERT INTO things (name) VALUES ('written on v1.4.0')", s.db);
            const r = s.deployctl(["rollback", "v1.0.0", "--db", "restore", "--yes"]);
            ok(r);
            expect(await running()).to.equal("v1.0.0");
            expect(schemaVersion(s.db)).to.equal(1);
            expect(await items(s.port)).to.deep.equal({ status: 200, version: "v1.0.0" });
            const rec = s.outputs().releaseRecord as ReleaseRecord;
            expect(path.basename(rec.backup.path)).to.match(/^safety_before_restore_v1\.4\.0_\d{8}T\d{6}Z\.dump$/);
            expect(rec.backup.kind).to.equal("safety_before_restore");
            expect(path.basename(rec.restoredDump!.path)).to.match(/^pre_release_v1\.4\.0_/);
            // The safety dump holds the row the restore discarded.
            expect(exec("pg_restore", ["--data-only", "--table=things", "-f", "-", rec.backup.path]).stdout).to.include("written on v1.4.0");
            const out = fs.mkdtempSync(path.join(s.backupDir, "records-"));
            ok(s.deployctl(["record", "v1.0.0", "--out", out]));
            const md = fs.readFileSync(path.join(out, "v1.0.0.md"), "utf8");
            expect(md).to.include(`| safety backup (data discarded by the restore) | \`${rec.backup.path}\` |`);
            expect(md).to.include(`| restored dump | \`${rec.restoredDump!.path}\``);
        });

        it("shows the live schema after each update in history, beside the target", () => {
            const rows = s.history().filter(r => r.operation === "update" && r.result === "succeeded");
            const line = (r: { kind: string; version: string; schemaVersion: string; liveSchema: string }) => `${r.kind}:${r.version}:${r.schemaVersion}:${r.liveSchema}`;
            expect(rows.map(line).reverse()).to.deep.equal([
                "deploy:v1.0.0:1:1", "deploy:v1.1.0:2:2", "deploy:v1.4.0:4:4", "rollback:v1.0.0:1:1", "deploy:v1.4.0:4:4",
                "rollback:v1.0.0:1:1 (now)",
            ]);
            expect(s.deployctl(["history"]).stdout).to.match(/live schema after/);
        });
    });

    describe("failures after and before the switch, dirty schemas and missing down files", () => {
        let s: TestStack;
        before(async () => {
            s = await TestStack.create("atomic");
            ok(s.deploy("v1.0.0"));
            ok(s.deploy("v1.1.0"));
        });
        after(() => s?.cleanup());
        const running = async () => (await health(s.port))?.body.version;

        it("without --atomic, a release whose critical endpoint fails after the switch is reported exactly", async () => {
            const r = s.deploy("v1.5.0");
            expect(r.code).to.equal(1);
            expect(lastLine(r)).to.match(/^deployctl: deploy of v1\.5\.0 failed: smoke failed: critical endpoint \/items answered 500, expected 200: .*; v1\.5\.0 serves \(it switched before the failure\); to go back: deployctl rollback v1\.1\.0 --stack \S+$/);
            expect(await running()).to.equal("v1.5.0");
            expect(s.config()).to.include("release:version: v1.5.0");
        });

        it("'rollback previous' after that goes back to the release that served before it", async () => {
            ok(s.deployctl(["rollback", "previous"]));
            expect(await running()).to.equal("v1.1.0");
        });

        it("with --atomic, the previous release is put back as a recorded rollback", async () => {
            const r = s.deploy("v1.5.0", ["--atomic"]);
            expect(r.code).to.equal(1);
            expect(lastLine(r)).to.match(/^deployctl: deploy of v1\.5\.0 failed: smoke failed: critical endpoint \/items answered 500, expected 200: .*; atomic: v1\.1\.0 was put back and serves again \(recorded as a rollback\)$/);
            expect(await running()).to.equal("v1.1.0");
            expect(await items(s.port)).to.deep.equal({ status: 200, version: "v1.1.0" });
            const rows = s.history().filter(x => x.operation === "update");
            expect(rows[0]).to.deep.include({ kind: "rollback", version: "v1.1.0", result: "succeeded", replacesVersion: "v1.5.0", atomicRecoveryOf: "v1.5.0" });
            expect(rows[1]).to.deep.include({ kind: "deploy", version: "v1.5.0", result: "failed" });
            expect(s.config()).to.include("release:version: v1.1.0");
            // A plain pulumi up afterwards does not re-run the failed release.
            const up = s.pulumi(["up", "--yes", "--skip-preview"]);
            expect(up.code, up.stderr).to.equal(0);
            expect(await running()).to.equal("v1.1.0");
        });

        it("a migration that fails halfway: the config goes back to what serves, and the dirty schema has an exact, working recovery", async () => {
            const failed = s.deploy("v1.2.0");
            expect(failed.code).to.equal(1);
            expect(lastLine(failed)).to.match(/^deployctl: deploy of v1\.2\.0 failed: migrations failed: goto 3 with .*nonexistent_type.*; nothing switched: v1\.1\.0 still serves$/);
            expect(s.config(), "the config describes what runs").to.include("release:version: v1.1.0");
            expect(await running()).to.equal("v1.1.0");

            const previous = s.deployctl(["rollback", "previous"]);
            expect(previous.code).to.equal(2);
            expect(lastLine(previous)).to.match(/^deployctl: the last update \(deploy v1\.2\.0\) failed before it switched, so v1\.1\.0, the release before it, still serves; nothing to roll back/);

            const dirty = s.deployctl(["rollback", "v1.0.0"]);
            expect(dirty.code).to.equal(2);
            expect(lastLine(dirty)).to.equal(`deployctl: the database is dirty at schema 3: migration 3 failed halfway (its transaction was rolled back, so the tables are as at schema 2); v1.1.0 still serves. Check the schema, then mark it clean with: deployctl force-schema 2 --stack ${s.name} --yes, and run this command again`);
            const unconfirmed = s.deployctl(["force-schema", "2"]);
            expect(unconfirmed.code).to.equal(2);
            expect(psql("SELECT dirty FROM schema_migrations", s.db)).to.equal("t");
            ok(s.deployctl(["force-schema", "2", "--yes"]));
            expect(psql("SELECT version || ' ' || dirty FROM schema_migrations", s.db)).to.equal("2 false");
            ok(s.deployctl(["rollback", "v1.0.0"]));
            expect(await running()).to.equal("v1.0.0");
            expect(await items(s.port)).to.deep.equal({ status: 200, version: "v1.0.0" });
            ok(s.deploy("v1.1.0"));
        });

        it("refuses a release image with an up-migration but no down file where the stack requires them; warns otherwise", async () => {
            s.pulumiOk(["config", "set", "requireDownMigrations", "true"]);
            const refused = s.deploy("v1.6.0");
            expect(refused.code).to.equal(1);
            expect(lastLine(refused)).to.match(/^deployctl: deploy of v1\.6\.0 failed: migrations failed: .* carries up-migrations without a down file: 005_add_tags\.up\.sql; this stack requires one for each \(requireDownMigrations\); nothing was changed; nothing switched: v1\.1\.0 still serves$/);
            expect(schemaVersion(s.db)).to.equal(2);
            s.pulumiOk(["config", "set", "requireDownMigrations", "false"]);
            const warned = s.deploy("v1.6.0");
            ok(warned);
            expect(warned.stdout).to.include("migrations: warning: up-migrations without a down file: 005_add_tags.up.sql");
            expect(schemaVersion(s.db)).to.equal(5);
        });

        it("refuses a down rollback that needs a missing down file, before anything changes", async () => {
            const config = s.config();
            const r = s.deployctl(["rollback", "v1.1.0", "--db", "down"]);
            expect(r.code).to.equal(2);
            expect(lastLine(r)).to.match(/^deployctl: --db down from schema 5 to 2 needs the down files of migrations 5, which v1\.6\.0's image .* does not carry; nothing was changed\. Use --db restore/);
            expect(s.config()).to.equal(config);
            expect(schemaVersion(s.db)).to.equal(5);
            expect(await running()).to.equal("v1.6.0");
        });
    });
});
