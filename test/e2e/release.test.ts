// Deploy, upgrade, no-op, rollback in each database mode and roll forward,
// through deployctl and the real Pulumi engine, Docker, registry and PostgreSQL.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { ReleaseRecord } from "../../components/record";
import { columns, containerId, createDb, dropDb, exec, health, pg, psql, ref, releases, schemaVersion, sha256, uniq } from "../support/infra";
import { TestStack } from "../support/stack";

describe("releases end to end (real engine)", function () {
    this.timeout(300000);
    const rel = releases();
    let s: TestStack;
    before(async () => { s = await TestStack.create("rel"); });
    after(() => s?.cleanup());

    const running = async () => (await health(s.port))?.body.version;
    const record = () => s.outputs().releaseRecord as ReleaseRecord;
    const ok = (r: { code: number; stdout: string; stderr: string }) => expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);

    it("deploys v1.0.0: verified dump, schema 1, app serving, full record", async () => {
        const r = s.deploy("v1.0.0");
        ok(r);
        expect(r.stdout).to.include("backup: pg_dump -Fc");
        expect(await running()).to.equal("v1.0.0");
        expect(schemaVersion(s.db)).to.equal(1);
        const rec = record();
        expect(rec).to.deep.include({
            version: "v1.0.0", gitSha: rel["v1.0.0"].gitSha, gitTag: "v1.0.0", imageRef: ref(rel["v1.0.0"]),
            imageDigest: rel["v1.0.0"].digest, schemaVersion: 1, kind: "deploy", notes: "e2e v1.0.0",
        });
        expect(rec.deployedAt).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        expect(path.basename(rec.backup.path)).to.match(/^pre_release_v1\.0\.0_/);
        expect(sha256(rec.backup.path)).to.equal(rec.backup.sha256);
        expect(fs.statSync(rec.backup.path).size).to.equal(rec.backup.bytes);
        expect(exec("docker", ["inspect", "-f", "{{.Config.Image}}", s.container]).stdout.trim()).to.equal(ref(rel["v1.0.0"]));
    });

    it("records the order backup → migrations → container → smoke test in the engine's state", () => {
        const res = s.state();
        const urn = (suffix: string) => res.find(x => x.urn.endsWith(suffix))!.urn;
        const deps = (suffix: string) => res.find(x => x.urn.endsWith(suffix))!.dependencies ?? [];
        expect(deps("::migrations-migrate")).to.include(urn("::backup-dump"));
        expect(deps("::app-container")).to.include(urn("::migrations-migrate"));
        expect(deps("::smoke-check")).to.include(urn("::app-container"));
    });

    it("changes nothing and takes no backup on a second up with unchanged config", async () => {
        const before = s.dumps();
        const id = containerId(s.container);
        const r = s.deployctl(["deploy"]);
        ok(r);
        // The release identity is unchanged, so deployctl started no backup with the update either.
        expect(r.stdout).to.not.include("the backup started with the update");
        // Every resource in the state but the engine's default providers, which the summary does not count.
        const resources = s.state().filter(x => !(x.type.startsWith("pulumi:providers:") && /::default(_[0-9_]+)?$/.test(x.urn))).length;
        expect(r.stdout, r.stdout).to.match(new RegExp(`\\b${resources} unchanged\\b`));
        expect(r.stdout).to.not.match(/\b(created|updated|replaced)\b/);
        expect(s.dumps()).to.deep.equal(before);
        expect(containerId(s.container)).to.equal(id);
    });

    it("upgrades to v1.1.0: a new verified dump, schema 2, the new column in use", async () => {
        const r = s.deploy("v1.1.0");
        ok(r);
        // deployctl started the backup with the update, and the backup step took it: one dump, not two.
        expect(r.stdout).to.include("backup: taken by deployctl from the start of the update");
        expect(r.stdout).to.not.include("not taken by a backup step");
        expect(await running()).to.equal("v1.1.0");
        expect(schemaVersion(s.db)).to.equal(2);
        expect(s.dumps().filter(d => d.startsWith("pre_release_v1.1.0_"))).to.have.length(1);
        psql("INSERT INTO items (name, note) VALUES ('one', 'written by v1.1.0'), ('two', 'also v1.1.0')", s.db);
        const rec = record();
        expect(rec).to.deep.include({ version: "v1.1.0", schemaVersion: 2, imageDigest: rel["v1.1.0"].digest });
        // That dump is the database as it was before v1.1.0: restorable, at schema 1.
        const scratch = uniq("e2e_dump");
        createDb(scratch);
        try {
            const restored = exec("pg_restore", ["--no-owner", "-d", scratch, rec.backup.path], pg(scratch));
            expect(restored.code, restored.stderr).to.equal(0);
            expect(schemaVersion(scratch)).to.equal(1);
        } finally {
            dropDb(scratch);
        }
    });

    it("rolls back app-only (keep): v1.0.0 serves, schema stays at 2, rows intact, no dump on the critical path", async () => {
        const dumps = s.dumps();
        const r = s.deployctl(["rollback", "v1.0.0"]);
        ok(r);
        expect(r.stdout).to.include("rolling back");
        expect(r.stdout).to.include("backup: none taken: the database is clean at schema 2 and v1.0.0 needs 1");
        expect(r.stdout, "no migration tool run when nothing can run").to.match(/migrations: schema 2, clean, as the backup step read it \d+s ago/);
        expect(s.dumps(), "an app-only rollback that changes no schema takes no dump").to.deep.equal(dumps);
        expect(record().backup).to.deep.include({ kind: "none", path: "" });
        const restore = s.deployctl(["rollback", "previous", "--db", "restore", "--yes"]);
        expect(restore.code, restore.stdout + restore.stderr).to.equal(2);
        expect(restore.stderr).to.include("was put in place by an app-only rollback, which changed no schema and took no dump");
        expect(await running()).to.equal("v1.0.0");
        expect(schemaVersion(s.db)).to.equal(2);
        expect(psql("SELECT count(*) FROM items WHERE note IS NOT NULL", s.db)).to.equal("2");
        expect(record()).to.deep.include({ version: "v1.0.0", kind: "rollback", replacesVersion: "v1.1.0", dbMode: "keep" });
    });

    it("rolls forward to v1.1.0 again", async () => {
        ok(s.deploy("v1.1.0"));
        expect(await running()).to.equal("v1.1.0");
        expect(record()).to.deep.include({ kind: "deploy", replacesVersion: "" });
    });

    it("rolls back with down migrations from the newer image: schema back to 1", async () => {
        ok(s.deployctl(["rollback", "previous", "--db", "down"]));
        expect(await running()).to.equal("v1.0.0");
        expect(schemaVersion(s.db)).to.equal(1);
        expect(columns("items", s.db)).to.not.include("note");
        expect(record()).to.deep.include({ version: "v1.0.0", kind: "rollback", dbMode: "down" });
    });

    it("rolls back with restore: a safety backup first, then the database as it was before v1.1.0", async () => {
        ok(s.deploy("v1.1.0"));
        expect(schemaVersion(s.db)).to.equal(2);
        psql("INSERT INTO items (name, note) VALUES ('late', 'written after the v1.1.0 deploy')", s.db);
        const preRelease = record().backup;
        const dumpsBefore = s.dumps();

        const refused = s.deployctl(["rollback", "v1.0.0", "--db", "restore"]);
        expect(refused.code).to.equal(2);
        expect(refused.stderr.trim()).to.match(/^deployctl: restore overwrites database .* rerun with --yes to confirm$/);
        expect(await running()).to.equal("v1.1.0");

        ok(s.deployctl(["rollback", "v1.0.0", "--db", "restore", "--yes"]));
        expect(await running()).to.equal("v1.0.0");
        expect(schemaVersion(s.db)).to.equal(1);
        expect(psql("SELECT count(*) FROM items WHERE name = 'late'", s.db)).to.equal("0");
        expect(columns("items", s.db)).to.not.include("note");

        // The safety backup taken before the restore holds the discarded row, and restores.
        const safety = s.dumps().filter(d => !dumpsBefore.includes(d));
        expect(safety).to.have.length(1);
        const scratch = uniq("e2e_safety");
        createDb(scratch);
        try {
            const r = exec("pg_restore", ["--no-owner", "-d", scratch, path.join(s.backupDir, safety[0])], pg(scratch));
            expect(r.code, r.stderr).to.equal(0);
            expect(psql("SELECT count(*) FROM items WHERE name = 'late'", scratch)).to.equal("1");
        } finally {
            dropDb(scratch);
        }
        expect(record()).to.deep.include({ version: "v1.0.0", kind: "rollback", dbMode: "restore" });
        expect(fs.existsSync(preRelease.path), "the restored dump is kept").to.equal(true);
    });

    it("lists every deploy and rollback in history, newest first, with the right digests", () => {
        const rows = s.history().filter(r => r.operation === "update");
        const seq = rows.map(r => `${r.kind}:${r.version}:${r.dbMode}`).reverse();
        expect(seq).to.deep.equal([
            "deploy:v1.0.0:keep", "deploy:v1.0.0:keep", "deploy:v1.1.0:keep", "rollback:v1.0.0:keep", "deploy:v1.1.0:keep",
            "rollback:v1.0.0:down", "deploy:v1.1.0:keep", "rollback:v1.0.0:restore",
        ]);
        for (const r of rows) {
            expect(r.result).to.equal("succeeded");
            expect(r.imageDigest).to.equal(rel[r.version].digest);
            expect(r.gitSha).to.equal(rel[r.version].gitSha);
        }
        const table = s.deployctl(["history"]).stdout;
        expect(table).to.include("rollback (from v1.1.0, db restore)");
    });

    it("writes releases/<version>.md with every field the playbook requires", () => {
        const out = fs.mkdtempSync(path.join(s.backupDir, "records-"));
        const r = s.deployctl(["record", "v1.0.0", "--out", out]);
        ok(r);
        const md = fs.readFileSync(path.join(out, "v1.0.0.md"), "utf8");
        const rec = record();
        for (const needle of [rel["v1.0.0"].gitSha, "`v1.0.0`", `${rel["v1.0.0"].image}:v1.0.0`, rel["v1.0.0"].digest,
            "| schema version (target) | 1 |", rec.backup.path, rec.backup.sha256, "e2e v1.0.0"]) {
            expect(md).to.include(needle);
        }
    });

    it("keeps the database password out of the state, history, outputs and deployctl output", () => {
        const password = pg().PGPASSWORD;
        expect(s.rawState()).to.not.include(password);
        expect(s.pulumiOk(["stack", "history", "--json"])).to.not.include(password);
        expect(JSON.stringify(s.outputs())).to.not.include(password);
        expect(s.deployctl(["history", "--json"]).stdout).to.not.include(password);
        expect(s.transcript.length, "deployctl printed the engine's progress").to.be.greaterThan(10000);
        expect(s.transcript, "every deployctl output of this suite").to.not.include(password);
        const out = fs.mkdtempSync(path.join(s.backupDir, "records-"));
        expect(s.deployctl(["record", "v1.0.0", "--out", out]).code).to.equal(0);
        expect(fs.readFileSync(path.join(out, "v1.0.0.md"), "utf8")).to.not.include(password);
    });
});
