// The hosts of a stack and their batches: the rules of api-server:hosts and batchSize, each bad
// value refused in one line naming the key, and the graph one update gives the engine.
import { expect } from "chai";
import { ConfigError, parseDeployConfig } from "../../components/config";
import { batchesOf, batchSizeProblem, endpointProblem, parseHosts } from "../../components/hosts";
import * as pulumi from "@pulumi/pulumi";
import { programError, runProgram, validConfig, valueOf } from "../support/mocks";

const FALLBACK = { name: "local", endpoint: "", address: "127.0.0.1" };
const A = { name: "a", endpoint: "unix:///var/run/docker.sock", address: "127.0.0.1" };
const B = { name: "b", endpoint: "ssh://deploy@web-2.internal:2222", address: "10.0.0.12" };

function problemsOf(raw: unknown): string[] {
    const problems: string[] = [];
    parseHosts(raw, FALLBACK, problems);
    return problems;
}

describe("hosts config", () => {
    it("reads a list of hosts, and one host from dockerHost and appHost without it", () => {
        const problems: string[] = [];
        expect(parseHosts([A, B], FALLBACK, problems)).to.deep.equal([A, B]);
        expect(problems).to.deep.equal([]);
        expect(parseHosts(undefined, FALLBACK, problems)).to.deep.equal([FALLBACK]);
    });
    it("refuses duplicate host names, and two hosts on one engine", () => {
        expect(problemsOf([A, { ...B, name: "a" }])).to.deep.equal(['api-server:hosts[1].name "a" is a duplicate: host names must be unique']);
        expect(problemsOf([A, { ...B, endpoint: A.endpoint }])[0]).to.match(/^api-server:hosts\[1\]\.endpoint "unix:\/\/\/var\/run\/docker.sock" is a duplicate of api-server:hosts\[0\]'s/);
    });
    it("refuses a malformed endpoint, naming the forms it may take", () => {
        for (const bad of ["http://h:2375", "tcp://h", "unix://relative", "ssh://", "ssh://h:99999", "h:22"]) {
            const p = problemsOf([{ ...A, endpoint: bad }]);
            expect(p, bad).to.have.length(1);
            expect(p[0]).to.equal(`api-server:hosts[0].endpoint ${JSON.stringify(bad)} is invalid: must be unix:///absolute/path, tcp://host:port or ssh://[user@]host[:port]`);
        }
        for (const good of ["unix:///run/docker.sock", "tcp://10.0.0.5:2376", "ssh://h", "ssh://u@h.example:2222"]) {
            expect(endpointProblem("k", good), good).to.equal(undefined);
        }
    });
    it("refuses an ssh endpoint with shell metacharacters", () => {
        for (const bad of ["ssh://h;rm -rf /", "ssh://$(id)@h", "ssh://h`x`", "ssh://h|nc", "ssh://u@h&"]) {
            expect(problemsOf([{ ...A, endpoint: bad }]), bad).to.deep.equal([
                `api-server:hosts[0].endpoint ${JSON.stringify(bad)} is invalid: an ssh endpoint must not contain shell metacharacters (spaces, ;&|<>$\`\\"'(){}[]*?!#~)`,
            ]);
        }
    });
    it("refuses a bad name or address, an unknown setting, and a list that is not one", () => {
        expect(problemsOf([{ ...A, name: "Web_1" }])[0]).to.match(/^api-server:hosts\[0\]\.name "Web_1" is invalid: must be a DNS label/);
        expect(problemsOf([{ ...A, address: "a b" }])[0]).to.match(/^api-server:hosts\[0\]\.address "a b" is invalid/);
        expect(problemsOf([{ ...A, port: 22 }])).to.deep.equal(["api-server:hosts[0].port is not a host setting: a host has name, endpoint, address"]);
        expect(problemsOf([])).to.deep.equal(["api-server:hosts is invalid: must be a non-empty list of { name, endpoint, address }"]);
        expect(problemsOf({ a: A })).to.have.length(1);
    });
    it("takes a batch size of 1 or more hosts or 1% to 100%, and refuses 0 and over 100%", () => {
        for (const good of ["1", "3", "1%", "50%", "100%"]) expect(batchSizeProblem("api-server:batchSize", good), good).to.equal(undefined);
        expect(batchSizeProblem("api-server:batchSize", "0")).to.equal('api-server:batchSize "0" is invalid: must be at least 1 host');
        expect(batchSizeProblem("api-server:batchSize", "0%")).to.equal('api-server:batchSize "0%" is invalid: a percentage must be from 1% to 100%');
        expect(batchSizeProblem("api-server:batchSize", "150%")).to.equal('api-server:batchSize "150%" is invalid: a percentage must be from 1% to 100%');
        expect(batchSizeProblem("api-server:batchSize", "-1")).to.match(/must be a number of hosts/);
    });
    it("cuts the hosts into batches in their listed order", () => {
        const hosts = ["a", "b", "c", "d", "e"];
        expect(batchesOf(hosts, "1")).to.deep.equal([["a"], ["b"], ["c"], ["d"], ["e"]]);
        expect(batchesOf(hosts, "2")).to.deep.equal([["a", "b"], ["c", "d"], ["e"]]);
        expect(batchesOf(hosts, "50%")).to.deep.equal([["a", "b", "c"], ["d", "e"]]);
        expect(batchesOf(hosts, "1%")).to.deep.equal([["a"], ["b"], ["c"], ["d"], ["e"]]);
        expect(batchesOf(hosts, "100%")).to.deep.equal([hosts]);
        expect(batchesOf(hosts, "9")).to.deep.equal([hosts]);
    });
    it("refuses dockerHost beside a list of hosts, in one line naming the key", () => {
        const cfg = validConfig({ "api-server:dockerHost": "unix:///run/docker.sock" });
        let err: unknown;
        try {
            parseDeployConfig({ get: (ns, k) => cfg[`${ns}:${k}`] }, undefined, undefined, undefined, [A, B]);
        } catch (e) {
            err = e;
        }
        expect(err).to.be.instanceOf(ConfigError);
        expect((err as ConfigError).problems).to.deep.equal(['api-server:dockerHost "unix:///run/docker.sock" must be empty when api-server:hosts lists the hosts: each host has its own endpoint']);
    });
});

describe("deploy program on several hosts (mocked engine)", function () {
    this.timeout(20000);
    const proxyImage = "127.0.0.1:5000/acme/proxy@sha256:" + "c".repeat(64);
    const three = (batchSize: string) => validConfig({
        "api-server:proxyPort": "8443", "api-server:proxyImage": proxyImage, "api-server:batchSize": batchSize,
        "api-server:hosts": JSON.stringify([A, B, { name: "c", endpoint: "tcp://10.0.0.13:2376", address: "10.0.0.13" }]),
    });

    it("pulls on every host before the one backup, migrates once on the first host, and gates each batch on the one before", async () => {
        const run = await runProgram(three("1"));
        const dump = run.byName("backup-dump");
        for (const h of ["a", "b", "c"]) expect(dump.dependencies, h).to.include(run.byName(`image-${h}-pull`).urn);
        expect(run.resources.filter(r => r.name.endsWith("-dump")).map(r => r.name)).to.deep.equal(["backup-dump"]);
        const migrate = run.byName("migrations-migrate");
        expect((migrate.raw.environment as Record<string, string>).DOCKER_HOST).to.equal(A.endpoint);
        // Batches of one: b after a's smoke test, c after b's.
        expect(run.byName("app-a-container").dependencies).to.include(migrate.urn);
        expect(run.byName("app-b-container").dependencies).to.include(run.byName("smoke-a-check").urn);
        expect(run.byName("app-c-container").dependencies).to.include(run.byName("smoke-b-check").urn);
        // Each host's switch runs on its own engine and reaches its proxy through docker exec.
        const env = run.byName("app-b-container").raw.environment as Record<string, string>;
        expect(env.DOCKER_HOST).to.equal(B.endpoint);
        expect(env.APP_HOST).to.equal(B.address);
        expect(env.PROXY_CONTAINER).to.equal("api-server-proxy");
        expect((run.byName("smoke-b-check").raw.environment as Record<string, string>).BASE_URL).to.equal("http://10.0.0.12:8443");
        expect(run.resources.filter(r => r.type === "docker:index/container:Container").map(r => r.name).sort()).to.deep.equal(["proxy-a-container", "proxy-b-container", "proxy-c-container"]);
        // The record has each host, in switch order, with what each service runs there.
        const hosts = await valueOf(run.exports.hosts as pulumi.Output<Record<string, { endpoint: string; services: Record<string, { version: string }> }>>);
        expect(Object.keys(hosts)).to.deep.equal(["a", "b", "c"]);
        expect(hosts.b.endpoint).to.equal(B.endpoint);
        expect(hosts.c.services["api-server"].version).to.equal("v1.1.0");
    });

    it("switches a batch's hosts side by side: with 2 per batch, a and b after migrations, c after both", async () => {
        const run = await runProgram(three("2"));
        const migrate = run.byName("migrations-migrate");
        expect(run.byName("app-a-container").dependencies).to.include(migrate.urn);
        expect(run.byName("app-b-container").dependencies).to.include(migrate.urn);
        expect(run.byName("app-b-container").dependencies).to.not.include(run.byName("smoke-a-check").urn);
        expect(run.byName("app-c-container").dependencies).to.include.members([run.byName("smoke-a-check").urn, run.byName("smoke-b-check").urn]);
    });

    it("fails preview on bad hosts input with one line naming the key", async () => {
        const err = await programError(validConfig({ "api-server:hosts": JSON.stringify([A, { ...B, name: "a" }]) }));
        expect(err.message.trim().split("\n")).to.deep.equal(['api-server:hosts[1].name "a" is a duplicate: host names must be unique']);
        const batch = await programError(validConfig({ "api-server:batchSize": "0" }));
        expect(batch.message.trim()).to.equal('api-server:batchSize "0" is invalid: must be at least 1 host');
    });
});
