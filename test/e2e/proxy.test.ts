// The service behind the reverse proxy (Caddy, pinned by digest, as a docker.Container): every
// release change starts the new container on the idle slot, health-checks it, switches the proxy's
// upstream and drains the old one. Real engine, real Docker, real Caddy; traffic on loopback only,
// bounded in count and time.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { exec, freePort, health, ROOT } from "../support/infra";
import { steadyLoad } from "../support/load";
import { TestStack } from "../support/stack";

describe("zero-downtime switch behind the proxy (real engine, real Caddy)", function () {
    this.timeout(900000);
    let s: TestStack;
    let publicPort: number;
    let adminPort: number;

    before(async () => {
        s = await TestStack.create("proxy");
        publicPort = await freePort();
        adminPort = await freePort();
        const proxy = JSON.parse(fs.readFileSync(path.join(ROOT, ".local", "proxy.json"), "utf8"));
        s.pulumiOk(["config", "set", "proxyPort", String(publicPort)]);
        s.pulumiOk(["config", "set", "proxyAdminPort", String(adminPort)]);
        s.pulumiOk(["config", "set", "proxyImage", `${proxy.image}@${proxy.digest}`]);
        s.pulumiOk(["config", "set", "drainSeconds", "5"]);
    });
    after(() => s?.cleanup());

    const ok = (r: { code: number; stdout: string; stderr: string }) => expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);

    it("deploys v1.0.0 behind the proxy: the public port answers through it, the service runs on a slot port", async () => {
        ok(s.deploy("v1.0.0"));
        expect((await health(publicPort))?.body.version).to.equal("v1.0.0");
        const slot = exec("docker", ["ps", "--filter", `label=release.service=${s.container}`, "--format", "{{.Names}}"]).stdout.trim();
        expect([`${s.container}-${s.port}`, `${s.container}-${s.port + 1}`]).to.include(slot);
        const dial = exec("curl", ["-fsS", `http://127.0.0.1:${adminPort}/slot/upstream/${s.container}`]).stdout;
        expect(dial).to.include(`127.0.0.1:${slot.slice(s.container.length + 1)}`);
        expect(exec("docker", ["inspect", "-f", "{{.State.Running}}", `${s.container}-proxy`]).stdout.trim()).to.equal("true");
    });

    it("upgrades, rolls back and rolls forward under steady load with 0 failed requests; each switch happens once", async () => {
        const load = steadyLoad(publicPort);
        const marks: { version: string; start: number; done: number }[] = [];
        for (const step of [
            { version: "v1.1.0", run: () => s.deployAsync("v1.1.0") },
            { version: "v1.0.0", run: () => s.deployctlAsync(["rollback", "v1.0.0"]) },
            { version: "v1.1.0", run: () => s.deployAsync("v1.1.0") },
        ]) {
            const start = Date.now();
            ok(await step.run());
            marks.push({ version: step.version, start, done: Date.now() });
            await new Promise(r => setTimeout(r, 500));
        }
        const answers = await load.stop();
        const failed = answers.filter(a => a.status === "failed").length;
        const non2xx = answers.filter(a => a.status !== "failed" && (a.status < 200 || a.status > 299)).length;
        expect(answers.length, "the load ran").to.be.greaterThan(200);
        console.log(`      steady load: ${answers.length} requests over 3 switches, ${failed} failed, ${non2xx} non-2xx`);
        expect({ failed, non2xx }, JSON.stringify({ marks, bad: answers.filter(a => a.status !== 200) })).to.deep.equal({ failed: 0, non2xx: 0 });
        expect(new Set(answers.map(a => a.version))).to.satisfy((v: Set<string>) => [...v].every(x => x === "v1.0.0" || x === "v1.1.0"));
        // After each step, every request sent until the next step began got the new release.
        for (let i = 0; i < marks.length; i++) {
            const until = i + 1 < marks.length ? marks[i + 1].start : Infinity;
            const after = answers.filter(a => a.at > marks[i].done && a.at < until);
            expect(after.length, `requests after ${marks[i].version}`).to.be.greaterThan(0);
            const others = after.filter(a => a.version !== marks[i].version);
            expect(others, `requests sent after ${marks[i].version} switched in: ${JSON.stringify(marks)}`).to.deep.equal([]);
        }
        expect((await health(publicPort))?.body.version).to.equal("v1.1.0");
    });

    it("a new container that never turns healthy: the old one serves throughout, with 0 failed requests", async () => {
        s.pulumiOk(["config", "set", "--path", "appEnv.HEALTH_FAIL", "1"]);
        s.pulumiOk(["config", "set", "smokeRetries", "3"]);
        const load = steadyLoad(publicPort);
        const r = await s.deployctlAsync(["rollback", "v1.0.0"]);
        const answers = await load.stop();
        s.pulumiOk(["config", "rm", "appEnv"]);
        s.pulumiOk(["config", "set", "smokeRetries", "10"]);
        expect(r.code).to.equal(1);
        expect(r.stdout + r.stderr).to.include("keeps serving through the proxy");
        expect(answers.filter(a => a.status !== 200), "every request answered 200").to.deep.equal([]);
        expect(new Set(answers.map(a => a.version))).to.deep.equal(new Set(["v1.1.0"]));
        expect(exec("docker", ["ps", "-q", "--filter", `label=release.service=${s.container}`]).stdout.trim().split("\n")).to.have.length(1);
    });
});

describe("moving a running stack behind the proxy (real engine, real Caddy)", function () {
    this.timeout(600000);
    let s: TestStack;
    after(() => s?.cleanup());

    it("the old container serves on its port until the service has switched in behind the proxy; then it is drained and removed", async () => {
        s = await TestStack.create("proxymove");
        expect(s.deploy("v1.0.0").code).to.equal(0);
        const oldPort = s.port;
        const publicPort = await freePort();
        const slotPort = await freePort();
        const proxy = JSON.parse(fs.readFileSync(path.join(ROOT, ".local", "proxy.json"), "utf8"));
        s.pulumiOk(["config", "set", "proxyPort", String(publicPort)]);
        s.pulumiOk(["config", "set", "proxyAdminPort", String(await freePort())]);
        s.pulumiOk(["config", "set", "proxyImage", `${proxy.image}@${proxy.digest}`]);
        s.pulumiOk(["config", "set", "appPort", String(slotPort)]);
        s.pulumiOk(["config", "set", "drainSeconds", "2"]);
        // The old port answers until the end, every answer 200 (one closed loop on the old port, bounded).
        const load = steadyLoad(oldPort, 1, 50000, 120);
        const r = await s.deployAsync("v1.1.0");
        const answers = await load.stop();
        expect(r.code, r.stdout + r.stderr).to.equal(0);
        expect((await health(publicPort))?.body.version).to.equal("v1.1.0");
        expect(await health(oldPort), "the old port is free once the old container is drained").to.equal(undefined);
        expect(exec("docker", ["ps", "-aq", "--filter", `name=^/${s.container}$`]).stdout.trim(), "the pre-proxy container is removed").to.equal("");
        // Before the drain, every request on the old port was answered 200 by v1.0.0; after it, none was accepted.
        const lastOk = Math.max(...answers.filter(a => a.status === 200).map(a => a.at));
        const okBefore = answers.filter(a => a.at < lastOk);
        expect(okBefore.length).to.be.greaterThan(50);
        expect(okBefore.filter(a => a.status !== 200 || a.version !== "v1.0.0")).to.deep.equal([]);
    });
});
