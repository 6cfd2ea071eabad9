// The release bundle and the webhook notices on a real stack: each update leaves a .tar.gz beside the
// dumps whose SHA256SUMS line verifies and whose hash the record holds, with no secret inside; a
// receiver on 127.0.0.1 gets start, success and failure in order, and a dead webhook changes nothing.
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { exec, freePort, pg, releases, ref, tmpDir } from "../support/infra";
import { TestStack } from "../support/stack";

interface Received { text: string; fields: Record<string, string> }
type Record_ = { version: string; backup: { sha256: string }; artifact: { path: string; sha256: string; bytes: number } };

describe("release bundle and webhook notices (real engine, a receiver on 127.0.0.1)", function () {
    this.timeout(300000);
    const rel = releases();
    let s: TestStack;
    let server: http.Server;
    let received: Received[] = [];
    const token = "T0000/B0000/e2e-webhook-token";
    const events = () => received.map(r => r.fields.event);
    const record = () => (s.outputs().releaseRecord as Record_);

    before(async () => {
        server = http.createServer((req, res) => {
            let body = "";
            req.on("data", c => { body += c; });
            req.on("end", () => {
                const p = JSON.parse(body) as { text: string; attachments: { fields: { title: string; value: string }[] }[] };
                received.push({ text: p.text, fields: Object.fromEntries(p.attachments[0].fields.map(f => [f.title, f.value])) });
                res.end("ok");
            });
        });
        await new Promise<void>(r => server.listen(0, "127.0.0.1", r));
        s = await TestStack.create("notice");
        s.pulumiOk(["config", "set", "--secret", "webhookUrl", `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/${token}`]);
    });
    after(() => {
        server?.close();
        s?.cleanup();
    });

    it("posts start and success of each deploy in order, with the digest and the record's hashes", async () => {
        for (const v of ["v1.0.0", "v1.1.0"]) {
            const r = await s.deployAsync(v);
            expect(r.code, r.stdout + r.stderr).to.equal(0);
            expect(r.stdout.trim().split("\n").pop()).to.equal(`deployctl: ${s.name} runs ${v}`);
        }
        expect(events()).to.deep.equal(["deploy.started", "deploy.succeeded", "deploy.started", "deploy.succeeded"]);
        const done = received[3];
        expect(done.text).to.equal(`deploy of v1.1.0 on ${s.name} succeeded`);
        expect(done.fields).to.include({ version: "v1.1.0", stack: s.name, [`image ${s.container}`]: ref(rel["v1.1.0"]) });
        const rec = record();
        expect(done.fields["backup sha256"]).to.equal(rec.backup.sha256).and.match(/^[0-9a-f]{64}$/);
        expect(done.fields["release bundle sha256"]).to.equal(rec.artifact.sha256).and.match(/^[0-9a-f]{64}$/);
    });

    it("leaves one bundle per update beside the dumps: its SHA256SUMS line verifies, it holds config, record, images and migrations, and no secret", () => {
        const rec = record();
        const bundles = fs.readdirSync(s.backupDir).filter(f => f.endsWith(".tar.gz")).sort();
        expect(bundles.map(b => b.replace(/_\d{8}T\d{6}Z.*$/, ""))).to.deep.equal(["release_v1.0.0", "release_v1.1.0"]);
        expect(path.dirname(rec.artifact.path)).to.equal(s.backupDir);
        expect(fs.statSync(rec.artifact.path).size).to.equal(rec.artifact.bytes);
        const line = fs.readFileSync(path.join(s.backupDir, "SHA256SUMS"), "utf8").split("\n").find(l => l.endsWith(`  ${path.basename(rec.artifact.path)}`))!;
        expect(line.split(" ")[0]).to.equal(rec.artifact.sha256);
        const check = exec("sha256sum", ["-c", "-"], {}, `${line}\n`, s.backupDir);
        expect(check.code, check.stdout + check.stderr).to.equal(0);
        expect(check.stdout).to.include(": OK");

        const out = tmpDir("bundle");
        expect(exec("tar", ["-xzf", rec.artifact.path, "-C", out]).code).to.equal(0);
        const dir = path.join(out, path.basename(rec.artifact.path, ".tar.gz"));
        expect(fs.readdirSync(dir).sort()).to.deep.equal(["config.json", "images.txt", "migrations.txt", "record.json"]);
        const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")) as Record<string, unknown>;
        expect(config).to.include({ "release:version": "v1.1.0", "api-server:dbPassword": "[secret]", "api-server:webhookUrl": "[secret]", "api-server:appName": s.container });
        const inRecord = JSON.parse(fs.readFileSync(path.join(dir, "record.json"), "utf8")) as Record_;
        expect(inRecord.version).to.equal("v1.1.0");
        expect(inRecord.backup.sha256).to.equal(rec.backup.sha256);
        expect(fs.readFileSync(path.join(dir, "images.txt"), "utf8").trim()).to.equal(`${s.container} ${ref(rel["v1.1.0"])}`);
        const migrations = fs.readFileSync(path.join(dir, "migrations.txt"), "utf8").trim().split("\n");
        expect(migrations.some(m => /^001_.*\.up\.sql$/.test(m)) && migrations.some(m => /^002_.*\.up\.sql$/.test(m)), migrations.join(",")).to.equal(true);
        const raw = exec("sh", ["-c", `zcat ${JSON.stringify(rec.artifact.path)}`]).stdout;
        expect(raw).to.not.include(pg().PGPASSWORD);
        expect(raw).to.not.include(token);
    });

    it("posts the failure with the failing step and the last line (a smoke test fails; --atomic puts v1.1.0 back)", async () => {
        received = [];
        const r = await s.deployAsync("v1.5.0", ["--atomic"]);
        expect(r.code, r.stdout + r.stderr).to.equal(1);
        const last = r.stderr.trim().split("\n").pop()!;
        expect(last).to.include("atomic: v1.1.0 was put back");
        expect(events()).to.deep.equal(["deploy.started", "deploy.failed"]);
        expect(received[1].fields["failed step"]).to.equal("smoke");
        expect(`deployctl: ${received[1].fields["last line"]}`).to.equal(last);
        expect(received[1].text).to.equal(`deploy of v1.5.0 on ${s.name} failed at smoke: ${last.replace(/^deployctl: /, "")}`);
    });

    it("rolls back all the same when the webhook is down, saying so before its own last line", async () => {
        const dead = await freePort();
        s.pulumiOk(["config", "set", "--secret", "webhookUrl", `http://127.0.0.1:${dead}/hook`]);
        received = [];
        const r = await s.deployctlAsync(["rollback", "v1.0.0", "--db", "keep"]);
        expect(r.code, r.stdout + r.stderr).to.equal(0);
        expect(r.stdout).to.match(/deployctl: webhook: rollback\.started was not delivered \(.*\); the update is not affected/);
        expect(r.stdout).to.include("deployctl: webhook: rollback.succeeded was not delivered");
        expect(r.stdout.trim().split("\n").pop()).to.match(/^deployctl: .* runs v1\.0\.0 again/);
        expect(record().version).to.equal("v1.0.0");
        expect(received).to.deep.equal([]);
    });

    it("refuses a webhook stored in plain text before anything changes, in one line naming the key", () => {
        s.pulumiOk(["config", "set", "webhookUrl", "http://127.0.0.1:9/hook"]);
        const before = { config: s.config(), updates: s.history().length };
        const r = s.deploy("v1.1.0");
        expect(r.code, r.stdout + r.stderr).to.equal(2);
        expect(r.stderr.trim().split("\n")).to.deep.equal([
            "deployctl: api-server:webhookUrl is stored in plain text, but it carries the webhook's token: set it with pulumi config set --secret webhookUrl <url>; nothing was changed",
        ]);
        expect(s.config()).to.equal(before.config);
        expect(s.history().length).to.equal(before.updates);
    });
});
