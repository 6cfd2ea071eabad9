// Notices to the ops channel: the Slack-compatible payload, the webhook setting's rules, and
// delivery in order to a receiver on 127.0.0.1, where one that is down or silent changes nothing.
import { expect } from "chai";
import * as http from "http";
import { AddressInfo } from "net";
import { failedStep } from "../../cli/failure";
import { Notice, Notifier, releaseImages, slackPayload, webhookOf } from "../../cli/notify";

const ref = "127.0.0.1:5000/acme/api@sha256:" + "b".repeat(64);
const base: Omit<Notice, "event"> = { stack: "prod", version: "v1.1.0", images: { api: ref } };

describe("notices to the ops channel", () => {
    it("builds Slack-compatible JSON: text, and one attachment with a field per fact", () => {
        const p = slackPayload({ ...base, event: "deploy.succeeded", hashes: { backup: "a".repeat(64), artifact: "e".repeat(64) } }, new Date(1000_000));
        expect(p.text).to.equal("deploy of v1.1.0 on prod succeeded");
        const a = p.attachments[0] as { color: string; ts: number; fields: { title: string; value: string }[] };
        expect(a.color).to.equal("good");
        expect(a.ts).to.equal(1000);
        expect(Object.fromEntries(a.fields.map(f => [f.title, f.value]))).to.deep.equal({
            event: "deploy.succeeded", stack: "prod", version: "v1.1.0", "image api": ref,
            "backup sha256": "a".repeat(64), "release bundle sha256": "e".repeat(64),
        });
        const failed = slackPayload({ ...base, event: "rollback.failed", step: "smoke", message: "rollback of v1.1.0 failed: smoke failed: /health answered 500" });
        expect(failed.text).to.equal("rollback of v1.1.0 on prod failed at smoke: rollback of v1.1.0 failed: smoke failed: /health answered 500");
        expect(slackPayload({ ...base, event: "maintenance.on" }).text).to.equal("maintenance on on prod; v1.1.0 serves behind it");
    });

    it("names the failing step from the failure's last line", () => {
        expect(failedStep("deploy of v1.2.0 failed: migrations failed: 003 with x: syntax error; the running release was not touched")).to.equal("migrations");
        expect(failedStep("deploy of v1.2.0 failed: container failed: did not answer; nothing switched: v1.1.0 still serves")).to.equal("container");
        expect(failedStep("deploy of v1.2.0 failed: the engine stopped; nothing switched")).to.equal("engine");
    });

    it("takes the webhook only as a secret http(s) URL, in one line naming the key", () => {
        expect(webhookOf({})).to.equal("");
        expect(webhookOf({ "api-server:webhookUrl": { value: "https://hooks.example/T/B/x", secret: true } })).to.equal("https://hooks.example/T/B/x");
        expect(() => webhookOf({ "api-server:webhookUrl": { value: "https://hooks.example/T/B/x", secret: false } }))
            .to.throw("api-server:webhookUrl is stored in plain text, but it carries the webhook's token: set it with pulumi config set --secret webhookUrl <url>");
        expect(() => webhookOf({ "api-server:webhookUrl": { value: "ftp://x/y", secret: true } }))
            .to.throw('api-server:webhookUrl (a secret starting "ftp://x/") is invalid: must be an http:// or https:// URL');
    });

    it("names every service's image: the migration owner's and release:images", () => {
        const services = JSON.stringify([{ name: "web" }, { name: "api", migrations: true }]);
        expect(releaseImages(services, "app", ref, JSON.stringify({ web: "w@sha256:1" }))).to.deep.equal({ api: ref, web: "w@sha256:1" });
        expect(releaseImages("", "api-server", ref, undefined)).to.deep.equal({ "api-server": ref });
    });

    describe("delivery to a receiver on 127.0.0.1", () => {
        let server: http.Server;
        let received: { event: string; contentType: string }[];
        let arrived: number[] = [], answered: number[] = [];
        let delayMs = 0;
        let url = "";
        before(async () => {
            server = http.createServer((req, res) => {
                let body = "";
                req.on("data", c => { body += c; });
                req.on("end", () => {
                    const p = JSON.parse(body) as ReturnType<typeof slackPayload>;
                    const fields = (p.attachments[0] as { fields: { title: string; value: string }[] }).fields;
                    received.push({ event: fields.find(f => f.title === "event")!.value, contentType: String(req.headers["content-type"]) });
                    arrived.push(Date.now());
                    setTimeout(() => { answered.push(Date.now()); res.end("ok"); }, delayMs);
                });
            });
            await new Promise<void>(r => server.listen(0, "127.0.0.1", r));
            url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
        });
        after(() => server.close());
        beforeEach(() => { received = []; arrived = []; answered = []; delayMs = 0; });

        it("posts the notices in the order they were sent, even when the first is slow", async () => {
            delayMs = 150;
            const n = new Notifier(url, () => undefined);
            n.send({ ...base, event: "deploy.started" });
            n.send(async () => ({ ...base, event: "deploy.succeeded" }));
            await n.flush();
            expect(received).to.deep.equal([
                { event: "deploy.started", contentType: "application/json" },
                { event: "deploy.succeeded", contentType: "application/json" },
            ]);
            expect(arrived[1], "the second is sent only once the first was answered").to.be.at.least(answered[0]);
        });

        it("logs a webhook that is down, and goes on with the next notice", async () => {
            const closed = http.createServer();
            await new Promise<void>(r => closed.listen(0, "127.0.0.1", r));
            const port = (closed.address() as AddressInfo).port;
            await new Promise<void>(r => closed.close(() => r()));
            const log: string[] = [];
            const dead = new Notifier(`http://127.0.0.1:${port}/hook`, l => log.push(l));
            dead.send({ ...base, event: "deploy.started" });
            dead.send({ ...base, event: "deploy.failed", step: "smoke", message: "x" });
            await dead.flush();
            expect(log).to.have.length(2);
            expect(log[0]).to.match(/^deployctl: webhook: deploy\.started was not delivered \(.*ECONNREFUSED.*\); the update is not affected$/);
            expect(log[1]).to.include("deploy.failed was not delivered");
        });

        it("logs an error answer with its status", async () => {
            const log: string[] = [];
            const n = new Notifier(url.replace("/hook", "/missing"), l => log.push(l));
            const failing = http.createServer((_req, res) => { res.statusCode = 500; res.end(); });
            await new Promise<void>(r => failing.listen(0, "127.0.0.1", r));
            const bad = new Notifier(`http://127.0.0.1:${(failing.address() as AddressInfo).port}/`, l => log.push(l));
            bad.send({ ...base, event: "maintenance.off" });
            await bad.flush();
            failing.close();
            expect(log).to.deep.equal(["deployctl: webhook: maintenance.off was not delivered (HTTP 500); the update is not affected"]);
            n.send({ ...base, event: "maintenance.on" });
            await n.flush();
            expect(received.map(r => r.event)).to.deep.equal(["maintenance.on"]);
        });

        it("sends nothing without a URL", async () => {
            const n = new Notifier("", () => { throw new Error("no log expected"); });
            n.send({ ...base, event: "deploy.started" });
            await n.flush();
            expect(received).to.deep.equal([]);
        });
    });
});
