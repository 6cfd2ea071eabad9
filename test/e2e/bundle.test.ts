// A release bundle (two services behind the proxy) and maintenance mode: the services switch
// in order after one backup and one migration run, with 0 failed requests; maintenance answers
// 503 with its message and is in history; a service that fails leaves the command saying which
// service runs which release, and the next rollback converges; a restore rollback turns
// maintenance on before its safety backup. Real engine, real Docker, real Caddy, loopback only.
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { exec, freePort, health, pg, releases, ref, ROOT } from "../support/infra";
import { steadyLoad } from "../support/load";
import { TestStack } from "../support/stack";

/** One request on loopback: status, headers, body. */
function request(port: number, urlPath: string, method = "GET"): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path: urlPath, method, timeout: 5000 }, res => {
            let body = "";
            res.on("data", c => { body += c; });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
        req.end();
    });
}

describe("release bundles and maintenance behind the proxy (real engine, real Caddy)", function () {
    this.timeout(1200000);
    let s: TestStack;
    let apiPublic: number;
    let webPublic: number;
    let webPort: number;
    const web = (version: string) => `web=${ref(releases()[version])}`;
    const ok = (r: { code: number; stdout: string; stderr: string }) => expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);

    before(async () => {
        s = await TestStack.create("bundle");
        apiPublic = await freePort();
        webPublic = await freePort();
        webPort = await freePort();
        const adminPort = await freePort();
        const proxy = JSON.parse(fs.readFileSync(path.join(ROOT, ".local", "proxy.json"), "utf8"));
        s.pulumiOk(["config", "set", "proxyPort", String(apiPublic)]);
        s.pulumiOk(["config", "set", "proxyAdminPort", String(adminPort)]);
        s.pulumiOk(["config", "set", "proxyImage", `${proxy.image}@${proxy.digest}`]);
        s.pulumiOk(["config", "set", "drainSeconds", "3"]);
        s.pulumiOk(["config", "rm", "criticalEndpoints"]);
        // api owns the migrations and answers /items; web is a second service on its own public port.
        const set = (p: string, v: string) => s.pulumiOk(["config", "set", "--path", `services[${p}`, v]);
        set("0].name", "api");
        set("0].port", String(s.port));
        set("0].migrations", "true");
        set("0].critical[0].path", "/items");
        set("1].name", "web");
        set("1].port", String(webPort));
        set("1].publicPort", String(webPublic));
        set("1].env.ROLE", "web");
    });
    after(() => s?.cleanup());

    it("deploys a bundle: one backup, one migration run, then api and web switch in that order", async () => {
        ok(s.deploy("v1.0.0", ["--service", web("v1.0.0")]));
        expect((await health(apiPublic))?.body.version).to.equal("v1.0.0");
        expect((await health(webPublic))?.body.version).to.equal("v1.0.0");
        const state = s.state();
        const urn = (name: string) => state.find(r => r.urn.endsWith(`::${name}`))?.urn;
        // One backup and one migrations component for the whole bundle.
        expect(state.filter(r => /::(backup|migrations)$/.test(r.urn)).map(r => r.urn.split("::").pop())).to.have.members(["backup", "migrations"]);
        // web's switch depends on api's smoke test: the engine cannot start it before api passed.
        const webSwitch = state.find(r => r.urn.endsWith("::app-web-container"));
        expect(webSwitch?.dependencies ?? [], "web's switch waits for api's smoke test").to.include(urn("smoke-api-check"));
        const outputs = s.outputs() as { services: Record<string, { version: string; imageRef: string; container: string }> };
        expect(Object.keys(outputs.services)).to.deep.equal(["api", "web"]);
        expect(outputs.services.web.imageRef).to.equal(ref(releases()["v1.0.0"]));
        expect(outputs.services.web.container).to.match(new RegExp(`^${s.container}-web-(${webPort}|${webPort + 1})$`));
        // Each service runs its own env.
        const env = exec("docker", ["inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", outputs.services.web.container]).stdout;
        expect(env).to.include("ROLE=web");
    });

    it("upgrades and rolls back the whole bundle under steady load on both public ports with 0 failed requests", async () => {
        const loads = [steadyLoad(apiPublic, 2), steadyLoad(webPublic, 2)];
        ok(await s.deployAsync("v1.1.0", ["--service", web("v1.1.0")]));
        ok(await s.deployctlAsync(["rollback", "v1.0.0"]));
        const answers = (await Promise.all(loads.map(l => l.stop())));
        for (const [i, a] of answers.entries()) {
            const bad = a.filter(x => x.status !== 200);
            console.log(`      ${i === 0 ? "api" : "web"}: ${a.length} requests, ${bad.length} failed or non-2xx`);
            expect(a.length).to.be.greaterThan(100);
            expect(bad, JSON.stringify(bad.slice(0, 5))).to.deep.equal([]);
            expect([...new Set(a.map(x => x.version))].every(v => v === "v1.0.0" || v === "v1.1.0")).to.equal(true);
        }
        // The rollback copied the whole bundle back: web runs v1.0.0's image again.
        expect((await health(webPublic))?.body.version).to.equal("v1.0.0");
        expect(s.config()).to.include(ref(releases()["v1.0.0"]));
    });

    it("maintenance on answers 503 with the message and Retry-After, the health path still 200; off serves again; both in history", async () => {
        ok(s.deployctl(["maintenance", "on", "--message", "Upgrading storage; back at 02:30 UTC"]));
        for (const port of [apiPublic, webPublic]) {
            const r = await request(port, "/");
            expect(r.status).to.equal(503);
            expect(r.body.trim()).to.equal("Upgrading storage; back at 02:30 UTC");
            expect(r.headers["retry-after"]).to.equal("30");
            expect((await request(port, "/items", "POST")).status, "no write reaches the service").to.equal(503);
            expect((await request(port, "/health")).status).to.equal(200);
        }
        const again = s.deployctl(["maintenance", "on"]);
        expect(again.code).to.equal(2);
        expect(again.stderr.trim()).to.equal("deployctl: maintenance is already on on " + s.name + "; nothing was changed");
        ok(s.deployctl(["maintenance", "off"]));
        expect((await request(apiPublic, "/")).status).to.equal(200);
        expect((await request(webPublic, "/")).status).to.equal(200);
        const rows = s.history().filter(r => r.operation === "update").slice(0, 2);
        expect(rows.map(r => [r.maintenance, r.result, r.version])).to.deep.equal([["off", "succeeded", "v1.0.0"], ["on", "succeeded", "v1.0.0"]]);
    });

    it("web fails after api switched: the command says which service runs which release; the rollback converges", async () => {
        s.pulumiOk(["config", "set", "--path", "services[1].env.HEALTH_FAIL", "1"]);
        s.pulumiOk(["config", "set", "smokeRetries", "3"]);
        const r = s.deploy("v1.1.0", ["--service", web("v1.1.0")]);
        s.pulumiOk(["config", "rm", "--path", "services[1].env.HEALTH_FAIL"]);
        s.pulumiOk(["config", "set", "smokeRetries", "10"]);
        expect(r.code).to.equal(1);
        const last = r.stderr.trim().split("\n").pop()!;
        expect(last, last).to.match(/^deployctl: deploy of v1\.1\.0 failed: .*; api runs v1\.1\.0, web runs v1\.0\.0 \(v1\.1\.0 began to switch\); to converge, fix and run the same deploy again, or go back: deployctl rollback v1\.0\.0 --stack /);
        expect((await health(apiPublic))?.body.version).to.equal("v1.1.0");
        expect((await health(webPublic))?.body.version).to.equal("v1.0.0");
        ok(s.deployctl(["rollback", "v1.0.0"]));
        expect((await health(apiPublic))?.body.version).to.equal("v1.0.0");
        expect((await health(webPublic))?.body.version).to.equal("v1.0.0");
    });

    it("a restore rollback turns maintenance on before its safety backup: rows written before are in it, no write gets through after", async () => {
        ok(s.deploy("v1.1.0", ["--service", web("v1.1.0")]));
        exec("psql", ["-qAtX", "-c", "INSERT INTO items (name) VALUES ('written-before-maintenance')"], pg(s.db));
        const r = s.deployctl(["rollback", "v1.0.0", "--db", "restore", "--yes"]);
        ok(r);
        expect(r.stdout).to.include(`deployctl: maintenance stays on: check v1.0.0, then: deployctl maintenance off --stack ${s.name}`);
        const blocked = await request(apiPublic, "/items", "POST");
        expect(blocked.status).to.equal(503);
        expect(blocked.body).to.include("Restoring data to release v1.0.0");
        expect((await health(apiPublic))?.body.version).to.equal("v1.0.0");
        const safety = s.dumps().find(d => path.basename(d).startsWith("safety_before_restore_v1.1.0"));
        expect(safety, s.dumps().join(", ")).to.not.equal(undefined);
        const rows = exec("pg_restore", ["--data-only", "--table", "items", "-f", "-", path.join(s.backupDir, safety!)]).stdout;
        expect(rows).to.include("written-before-maintenance");
        // The maintenance switch ran before the backup: the engine recorded the dependency.
        const dump = s.state().filter(x => /::backup-[a-z-]+$/.test(x.urn));
        expect(dump.some(x => (x.dependencies ?? []).some(d => d.endsWith("::maintenance-switch"))), JSON.stringify(dump)).to.equal(true);
        ok(s.deployctl(["maintenance", "off"]));
        expect((await request(apiPublic, "/")).status).to.equal(200);
    });
});
