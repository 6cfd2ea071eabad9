// deployctl status and releases against a real stack: what runs now and drift from the record
// (a container removed by hand), and the rollback inventory (a dump moved away, a manifest deleted
// from the registry). Real engine, real Docker, real registry, real PostgreSQL.
import { expect } from "chai";
import * as fs from "fs";
import { exec, releases, uniq } from "../support/infra";
import { TestStack } from "../support/stack";

describe("deployctl status and releases (real stack)", function () {
    this.timeout(600000);
    let s: TestStack;
    // v1.0.0 deployed from a repository of its own, so its manifest can be deleted from the registry.
    const v1 = releases()["v1.0.0"];
    const repo = `127.0.0.1:5000/acme/inv-${uniq("r").replace(/_/g, "-").toLowerCase()}`;
    const ok = (r: { code: number; stdout: string; stderr: string }) => expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);

    before(async () => {
        s = await TestStack.create("inventory");
        exec("docker", ["tag", `${v1.image}@${v1.digest}`, `${repo}:v1.0.0`]);
        const pushed = exec("docker", ["push", "-q", `${repo}:v1.0.0`]);
        expect(pushed.code, pushed.stderr).to.equal(0);
        ok(s.deployctl(["deploy", "--version", "v1.0.0", "--image", repo, "--digest", v1.digest, "--sha", v1.gitSha,
            "--schema", String(v1.schemaVersion), "--schema-min", String(v1.schemaMin), "--schema-max", String(v1.schemaMax)]));
        ok(s.deploy("v1.1.0"));
    });
    after(() => {
        exec("docker", ["rmi", `${repo}:v1.0.0`]);
        s?.cleanup();
    });

    it("status reads what runs now and finds no drift", () => {
        const r = s.deployctl(["status", "--json"]);
        ok(r);
        const st = JSON.parse(r.stdout);
        expect(st.release).to.equal("v1.1.0");
        expect(st.host, "the stack's one Docker engine: the default socket").to.equal("local");
        expect(st.services).to.have.length(1);
        expect(st.services[0]).to.include({ name: s.container, container: s.container, version: "v1.1.0", digest: releases()["v1.1.0"].digest, health: "200 v1.1.0" });
        expect(st.schema).to.deep.equal({ version: 2, dirty: false });
        expect(st.locked).to.equal(false);
        expect(st.drift).to.deep.equal([]);
        expect(s.deployctl(["status"]).stdout).to.include("drift: none, the live system matches the release record");
    });

    it("releases lists v1.0.0 as a target usable with keep, down and restore", () => {
        const r = s.deployctl(["releases", "--json"]);
        ok(r);
        const rows = JSON.parse(r.stdout);
        expect(rows.map((x: { version: string }) => x.version)).to.deep.equal(["v1.0.0"]);
        expect(rows[0].images).to.deep.equal([{ ref: `${repo}@${v1.digest}`, where: "on the host", ok: true }]);
        expect(rows[0].dump.state).to.equal("ok");
        expect(rows[0].schemaOk).to.equal(true);
        expect(rows[0].usable).to.deep.equal(["keep", "down", "restore"]);
    });

    it("a dump moved away, an image gone from the host and its manifest deleted from the registry: releases says so", () => {
        const dump = JSON.parse(s.deployctl(["releases", "--json"]).stdout)[0].dump.path as string;
        fs.renameSync(dump, `${dump}.moved`);
        try {
            let rows = JSON.parse(s.deployctl(["releases", "--json"]).stdout);
            expect(rows[0].dump.state).to.equal("missing");
            expect(rows[0].usable).to.deep.equal(["keep", "down"]);
            // Not on the host any more, but still in the registry: pullable.
            expect(exec("docker", ["rmi", `${repo}:v1.0.0`]).code).to.equal(0);
            rows = JSON.parse(s.deployctl(["releases", "--json"]).stdout);
            expect(rows[0].images[0]).to.include({ where: "in the registry", ok: true });
            // Deleted from the registry too: no rollback to it can work.
            const del = exec("curl", ["-fsS", "-X", "DELETE", `http://${repo.replace("127.0.0.1:5000/", "127.0.0.1:5000/v2/")}/manifests/${v1.digest}`]);
            expect(del.code, del.stderr).to.equal(0);
            rows = JSON.parse(s.deployctl(["releases", "--json"]).stdout);
            expect(rows[0].images[0]).to.include({ where: "neither on the host nor in its registry", ok: false });
            expect(rows[0].usable).to.deep.equal([]);
            expect(s.deployctl(["releases"]).stdout).to.match(/v1\.0\.0 .*MISSING .* missing .*no: image missing/);
        } finally {
            fs.renameSync(`${dump}.moved`, dump);
        }
    });

    it("a container removed by hand is drift: status names it and exits 1", () => {
        exec("docker", ["rm", "-f", s.container]);
        const r = s.deployctl(["status", "--json"]);
        expect(r.code).to.equal(1);
        const st = JSON.parse(r.stdout);
        expect(st.drift).to.deep.equal([`service ${s.container}: no container runs; the record says v1.1.0`]);
        expect(s.deployctl(["status"]).stdout).to.include(`  - service ${s.container}: no container runs; the record says v1.1.0`);
    });
});
