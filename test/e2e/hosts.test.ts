// Several hosts: a release bundle deployed and rolled back on two Docker engines, the second
// reached over ssh (a local sshd, a key made for the test), each host with its own proxy and
// containers, one backup and one migration run, hosts switching one batch after the other with
// 0 failed requests on each; a failure on the second host reported host by host and converged by
// the next rollback; an unreachable host failing the update before any backup. Host 2 is a
// network namespace with its own dockerd (scripts/test-hosts.sh); traffic goes only to loopback
// and to that namespace.
import { expect } from "chai";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { exec, freePort, health, releases, ref, ROOT, schemaVersion } from "../support/infra";
import { steadyLoad } from "../support/load";
import { TestStack } from "../support/stack";

const HOSTS = path.join(ROOT, "scripts", "test-hosts.sh");

describe("several hosts: rolling over a local engine and an ssh engine (real engines, real sshd)", function () {
    this.timeout(1200000);
    let s: TestStack;
    let apiPublic: number;
    let webPublic: number;
    let webPort: number;
    let h2: { endpoint: string; ssh: string; address: string };
    const local = process.env.DOCKER_HOST || "unix:///var/run/docker.sock";
    const web = (version: string) => `web=${ref(releases()[version])}`;
    const ok = (r: { code: number; stdout: string; stderr: string }) => expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
    /** docker on host 2, through its own socket (not through the tool under test). */
    const docker2 = (args: string[]) => exec("docker", args, { DOCKER_HOST: h2.endpoint });
    /** What each service's running container runs on a host, from its labels. */
    const runs = (env: Record<string, string>) => exec("docker", ["ps", "--filter", `label=release.service`, "--format", '{{.Label "release.service"}}={{.Label "org.opencontainers.image.version"}}'], env)
        .stdout.split("\n").filter(l => l.startsWith(`${s.container}-`)).map(l => l.slice(s.container.length + 1)).sort();

    before(async () => {
        const up = exec("bash", [HOSTS, "up", "2"]);
        expect(up.code, up.stdout + up.stderr).to.equal(0);
        const [, endpoint, ssh, address] = exec("bash", [HOSTS, "env", "2"]).stdout.trim().split(" ");
        h2 = { endpoint, ssh, address };
        s = await TestStack.create("hosts");
        // ssh to the test host with its own client config: nothing in ~/.ssh is read or written.
        s.env.PATH = `${path.join(ROOT, ".local", "hosts", "bin")}:${s.env.PATH}`;
        apiPublic = await freePort();
        webPublic = await freePort();
        webPort = await freePort();
        const proxy = JSON.parse(fs.readFileSync(path.join(ROOT, ".local", "proxy.json"), "utf8"));
        s.pulumiOk(["config", "set", "proxyPort", String(apiPublic)]);
        s.pulumiOk(["config", "set", "proxyAdminPort", String(await freePort())]);
        s.pulumiOk(["config", "set", "proxyImage", `${proxy.image}@${proxy.digest}`]);
        s.pulumiOk(["config", "set", "drainSeconds", "3"]);
        s.pulumiOk(["config", "set", "smokeTimeoutSeconds", "2"]);
        s.pulumiOk(["config", "set", "smokeRetries", "3"]);
        s.pulumiOk(["config", "rm", "criticalEndpoints"]);
        const set = (p: string, v: string) => s.pulumiOk(["config", "set", "--path", p, v]);
        set("services[0].name", "api");
        set("services[0].port", String(s.port));
        set("services[0].migrations", "true");
        set("services[0].critical[0].path", "/items");
        // The health checks and smoke tests reach each host at its address: the app listens on all of them.
        set("services[0].env.HOST", "0.0.0.0");
        set("services[1].name", "web");
        set("services[1].port", String(webPort));
        set("services[1].publicPort", String(webPublic));
        set("services[1].env.HOST", "0.0.0.0");
    });
    after(() => {
        s?.cleanup();
        exec("bash", [HOSTS, "down"]);
    });

    it("deploys the bundle to both hosts: one backup, one migration run, host b only after host a's smoke tests", async () => {
        // The stack first serves from the local engine alone, as a stack without hosts does.
        ok(s.deploy("v1.0.0", ["--service", web("v1.0.0")]));
        const proxyBefore = exec("docker", ["inspect", "-f", "{{.Id}}", `${s.container}-proxy`]).stdout.trim();
        // Then it lists two hosts, the local engine first: that host's resources are the ones it had.
        const set = (p: string, v: string) => s.pulumiOk(["config", "set", "--path", p, v]);
        set("hosts[0].name", "a");
        set("hosts[0].endpoint", local);
        set("hosts[0].address", "127.0.0.1");
        set("hosts[1].name", "b");
        set("hosts[1].endpoint", h2.ssh);
        set("hosts[1].address", h2.address);
        ok(s.deploy("v1.0.0", ["--service", web("v1.0.0")]));
        expect(exec("docker", ["inspect", "-f", "{{.Id}}", `${s.container}-proxy`]).stdout.trim(), "host a keeps its proxy").to.equal(proxyBefore);
        for (const host of ["127.0.0.1", h2.address]) {
            expect((await health(apiPublic, host))?.body.version, `api on ${host}`).to.equal("v1.0.0");
            expect((await health(webPublic, host))?.body.version, `web on ${host}`).to.equal("v1.0.0");
        }
        // Host b's containers are on its own engine, not on the local one.
        expect(runs({ DOCKER_HOST: h2.endpoint })).to.deep.equal(["api=v1.0.0", "web=v1.0.0"]);
        expect(runs({ DOCKER_HOST: local })).to.deep.equal(["api=v1.0.0", "web=v1.0.0"]);
        const state = s.state();
        expect(state.filter(r => /::(backup|migrations)$/.test(r.urn)).map(r => r.urn.split("::").pop())).to.have.members(["backup", "migrations"]);
        const urn = (name: string) => state.find(r => r.urn.endsWith(`::${name}`))?.urn;
        // Batches of one: host b's first switch waits for host a's last smoke test.
        expect(state.find(r => r.urn.endsWith("::app-api-b-container"))?.dependencies ?? []).to.include(urn("smoke-web-a-check"));
        // Every host's images are pulled before the backup.
        const backup = state.find(r => r.urn.endsWith("::backup"));
        const pulls = ["a", "b"].flatMap(h => ["api", "web"].map(svc => urn(`image-${svc}-${h}-pull`)));
        expect(pulls.filter(Boolean)).to.have.length(4);
        expect(backup?.dependencies ?? []).to.include.members(pulls);
        const outputs = s.outputs() as { hosts: Record<string, { endpoint: string; address: string; services: Record<string, { version: string; imageRef: string; container: string }> }> };
        expect(Object.keys(outputs.hosts)).to.deep.equal(["a", "b"]);
        expect(outputs.hosts.b.endpoint).to.equal(h2.ssh);
        expect(outputs.hosts.b.services.web.imageRef).to.equal(ref(releases()["v1.0.0"]));
        expect(outputs.hosts.b.services.api.version).to.equal("v1.0.0");
    });

    it("upgrades and rolls back both hosts under load with 0 failed requests on each", async () => {
        for (const [version, action] of [["v1.1.0", "deploy"], ["v1.0.0", "rollback"]] as const) {
            const loads = [apiPublic, webPublic].flatMap(port => ["127.0.0.1", h2.address].map(host => ({ host, port, load: steadyLoad(port, 2, 20000, 120, 5, host) })));
            const r = await (action === "deploy" ? s.deployAsync(version, ["--service", web(version)]) : s.deployctlAsync(["rollback", version]));
            ok(r);
            for (const { host, port, load } of loads) {
                const answers = await load.stop();
                const failed = answers.filter(a => a.status !== 200);
                console.log(`      ${action} ${version}, ${host}:${port}: ${answers.length} requests, ${failed.length} failed or non-2xx`);
                expect(answers.length, `requests to ${host}:${port}`).to.be.greaterThan(50);
                expect(failed.length, `${host}:${port} during ${action} ${version}: ${JSON.stringify(failed.slice(0, 3))}`).to.equal(0);
                expect(answers[answers.length - 1].version, `${host}:${port} ends on ${version}`).to.equal(version);
            }
        }
        expect(runs({ DOCKER_HOST: h2.endpoint })).to.deep.equal(["api=v1.0.0", "web=v1.0.0"]);
    });

    it("a failure on host b leaves a on the new release and b on the old one, says so, and the rollback converges", async () => {
        // Host b's idle api slot is taken by a process that answers 503: the new container cannot
        // bind, and the health check fails there only.
        const current = docker2(["ps", "--filter", `name=^/${s.container}-api-`, "--format", "{{.Names}}"]).stdout.trim();
        const idle = current.endsWith(`-${s.port}`) ? s.port + 1 : s.port;
        let squatter: ChildProcess | undefined;
        try {
            squatter = spawn("nsenter", ["--net=/run/netns/deploy-h2", "socat", `TCP-LISTEN:${idle},reuseaddr,fork`,
                "SYSTEM:printf 'HTTP/1.0 503 Service Unavailable\\r\\nContent-Length: 0\\r\\n\\r\\n'"], { stdio: "ignore" });
            await new Promise(r => setTimeout(r, 500));
            const r = s.deploy("v1.1.0", ["--service", web("v1.1.0")]);
            expect(r.code, r.stdout + r.stderr).to.not.equal(0);
            const last = r.stderr.trim().split("\n").pop() ?? "";
            console.log(`      last line: ${last}`);
            expect(last).to.include("host a: api runs v1.1.0, web runs v1.1.0");
            expect(last).to.include("host b: api runs v1.0.0, web runs v1.0.0");
            expect(last).to.match(/deployctl rollback v1\.0\.0/);
        } finally {
            squatter?.kill();
        }
        expect(runs({ DOCKER_HOST: local })).to.deep.equal(["api=v1.1.0", "web=v1.1.0"]);
        expect(runs({ DOCKER_HOST: h2.endpoint })).to.deep.equal(["api=v1.0.0", "web=v1.0.0"]);
        // Host b kept serving the old release through its proxy the whole time.
        expect((await health(apiPublic, h2.address))?.body.version).to.equal("v1.0.0");
        const status = s.deployctl(["status", "--json"]);
        const st = JSON.parse(status.stdout) as { hosts: { name: string; services: { name: string; version: string }[] }[] };
        expect(st.hosts.map(h => `${h.name}:${h.services.map(x => x.version).join(",")}`)).to.deep.equal(["a:v1.1.0,v1.1.0", "b:v1.0.0,v1.0.0"]);

        ok(s.deployctl(["rollback", "v1.0.0"]));
        expect(runs({ DOCKER_HOST: local })).to.deep.equal(["api=v1.0.0", "web=v1.0.0"]);
        expect(runs({ DOCKER_HOST: h2.endpoint })).to.deep.equal(["api=v1.0.0", "web=v1.0.0"]);
    });

    it("bad hosts input fails pulumi preview with one line naming the key, and nothing changes", () => {
        const config = fs.readFileSync(s.configFile, "utf8");
        const ids = exec("docker", ["ps", "-q", "--filter", `name=^/${s.container}-`]).stdout;
        for (const [p, v, line] of [
            ["hosts[1].name", "a", 'api-server:hosts[1].name "a" is a duplicate: host names must be unique'],
            ["hosts[1].endpoint", "ssh://h2;reboot", 'api-server:hosts[1].endpoint "ssh://h2;reboot" is invalid: an ssh endpoint must not contain shell metacharacters'],
            ["hosts[1].endpoint", "ftp://h2", 'api-server:hosts[1].endpoint "ftp://h2" is invalid: must be unix:///absolute/path, tcp://host:port or ssh://[user@]host[:port]'],
            ["batchSize", "150%", 'api-server:batchSize "150%" is invalid: a percentage must be from 1% to 100%'],
        ]) {
            s.pulumiOk(["config", "set", "--path", p, v]);
            try {
                const r = s.pulumi(["preview"]);
                expect(r.code, p).to.not.equal(0);
                // The engine's diagnostics hold one error: the problem, named once.
                const diagnostics = (r.stdout + r.stderr).split("Diagnostics:").pop() ?? "";
                const named = diagnostics.split("\n").map(l => l.trim()).filter(l => l.startsWith("error:")).map(l => l.replace(/^error:\s*/, ""));
                expect(named, `${p}: ${r.stdout}${r.stderr}`).to.have.length(1);
                expect(named[0], p).to.include(line);
            } finally {
                fs.writeFileSync(s.configFile, config);
            }
        }
        expect(exec("docker", ["ps", "-q", "--filter", `name=^/${s.container}-`]).stdout).to.equal(ids);
    });

    it("an unreachable host fails the update before any backup or migration, and nothing changes", () => {
        s.pulumiOk(["config", "set", "--path", "hosts[2].name", "c"]);
        s.pulumiOk(["config", "set", "--path", "hosts[2].endpoint", "ssh://root@127.0.0.1:1"]);
        s.pulumiOk(["config", "set", "--path", "hosts[2].address", "127.0.0.1"]);
        try {
            const dumps = fs.readdirSync(s.backupDir).sort();
            const schema = schemaVersion(s.db);
            const before = [runs({ DOCKER_HOST: local }), runs({ DOCKER_HOST: h2.endpoint })];
            const ids = exec("docker", ["ps", "-q", "--filter", `name=^/${s.container}-`]).stdout;
            const r = s.deploy("v1.1.0", ["--service", web("v1.1.0")]);
            expect(r.code, r.stdout + r.stderr).to.not.equal(0);
            const last = r.stderr.trim().split("\n").pop() ?? "";
            console.log(`      last line: ${last}`);
            expect(last).to.match(/nothing switched/);
            expect(r.stdout + r.stderr).to.match(/127\.0\.0\.1.*port 1|ssh:\/\/root@127\.0\.0\.1:1/);
            expect(fs.readdirSync(s.backupDir).sort(), "no dump was taken").to.deep.equal(dumps);
            expect(schemaVersion(s.db)).to.equal(schema);
            expect([runs({ DOCKER_HOST: local }), runs({ DOCKER_HOST: h2.endpoint })]).to.deep.equal(before);
            expect(exec("docker", ["ps", "-q", "--filter", `name=^/${s.container}-`]).stdout).to.equal(ids);
        } finally {
            s.pulumiOk(["config", "rm", "--path", "hosts[2]"]);
        }
    });
});
