// Pull by digest from the real registry, the container switch, and the smoke test against a real container.
import { expect } from "chai";
import { removeScript, switchScript } from "../../components/appService";
import { lastJsonLine } from "../../components/shell";
import { smokeScript } from "../../components/smokeTest";
import { containerId, createDb, dropDb, exec, freePort, health, pg, psql, ref, releases, removeContainer, runScript, uniq } from "../support/infra";

describe("docker, registry and the app (real engine)", function () {
    this.timeout(120000);
    const rel = releases();
    const name = uniq("it-app").replace(/_/g, "-");
    let port = 0;
    before(async () => { port = await freePort(); });
    after(() => removeContainer(name));

    function switchTo(image: string, version: string, extra: Record<string, string> = {}) {
        return runScript(switchScript(), {
            IMAGE_REF: image, NAME: name, PORT: String(port), APP_HOST: "127.0.0.1", HEALTH_PATH: "/health",
            HEALTH_TIMEOUT: "10", RELEASE_VERSION: version, RELEASE_GIT_SHA: "0".repeat(40), RELEASE_DIGEST: image.split("@")[1],
            APP_ENV_KEYS: "", ...extra,
        });
    }

    it("pulls an image by digest from the registry, and refuses an unknown digest", () => {
        const ok = exec("docker", ["pull", "-q", ref(rel["v1.0.0"])]);
        expect(ok.code, ok.stderr).to.equal(0);
        const unknown = exec("docker", ["pull", "-q", `${rel["v1.0.0"].image}@sha256:${"0".repeat(64)}`]);
        expect(unknown.code).to.not.equal(0);
    });

    it("records the release's git SHA and version on the image", () => {
        const labels = exec("docker", ["image", "inspect", "-f", "{{json .Config.Labels}}", ref(rel["v1.1.0"])]).stdout;
        expect(JSON.parse(labels)).to.deep.include({
            "org.opencontainers.image.version": "v1.1.0", "org.opencontainers.image.revision": rel["v1.1.0"].gitSha,
        });
    });

    it("starts the release pinned by digest and switches to the next one", async () => {
        const first = switchTo(ref(rel["v1.0.0"]), "v1.0.0");
        expect(first.code, first.stderr).to.equal(0);
        expect((await health(port))?.body.version).to.equal("v1.0.0");
        const firstId = lastJsonLine<{ containerId: string }>(first.stdout).containerId;
        expect(containerId(name)).to.equal(firstId);
        expect(exec("docker", ["inspect", "-f", "{{.Config.Image}}", name]).stdout.trim()).to.equal(ref(rel["v1.0.0"]));

        const second = switchTo(ref(rel["v1.1.0"]), "v1.1.0");
        expect(second.code, second.stderr).to.equal(0);
        expect((await health(port))?.body.version).to.equal("v1.1.0");

        // The old resource's delete must not touch the container that replaced it.
        const del = runScript(removeScript(), { NAME: name, PULUMI_COMMAND_STDOUT: first.stdout });
        expect(del.stdout).to.include("is gone; nothing to remove");
        expect((await health(port))?.body.version).to.equal("v1.1.0");
    });

    it("puts the previous container back when the new one never turns healthy", async () => {
        const before = containerId(name);
        const bad = switchTo(ref(rel["v1.0.0"]), "v1.0.0", { APP_ENV_KEYS: "HEALTH_FAIL", HEALTH_FAIL: "1", HEALTH_TIMEOUT: "3" });
        expect(bad.code).to.not.equal(0);
        expect(bad.stderr).to.include("did not answer");
        expect(bad.stderr).to.include("the previous container was started again and answers");
        expect(containerId(name)).to.equal(before);
        expect((await health(port))?.body.version).to.equal("v1.1.0");
    });

    it("leaves the running container alone when the image cannot be pulled", async () => {
        const before = containerId(name);
        const r = switchTo(`${rel["v1.0.0"].image}@sha256:${"0".repeat(64)}`, "v9.9.9");
        expect(r.stderr).to.include("the running container was not touched");
        expect(containerId(name)).to.equal(before);
        expect((await health(port))?.body.version).to.equal("v1.1.0");
    });

    it("smoke test: passes on the right version, fails at once on a wrong one, and gives up on no answer", async () => {
        const db = uniq("it_smoke");
        createDb(db);
        try {
            const smoke = (expectVersion: string, p = port, retries = "3", extra: Record<string, string> = {}) => runScript(smokeScript(), {
                ...pg(db), BASE_URL: `http://127.0.0.1:${p}`, HEALTH_PATH: "/health", EXPECT_VERSION: expectVersion, RETRIES: retries, TIMEOUT: "2",
                CRITICAL: "", SCHEMA_MIN: "", SCHEMA_MAX: "", SCHEMA_TABLE: "schema_migrations", CONTAINER: name, ...extra,
            });
            psql("CREATE TABLE schema_migrations (version bigint NOT NULL, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (2, false)", db);
            const ok = smoke("v1.1.0", port, "3", { CRITICAL: "/health 200\n/items 503", SCHEMA_MIN: "2", SCHEMA_MAX: "3" });
            expect(ok.code, ok.stderr).to.equal(0);
            expect(ok.stdout).to.include("answered 200 with version v1.1.0");
            expect(ok.stdout).to.include("critical endpoint /items answered 503");
            expect(lastJsonLine(ok.stdout)).to.deep.equal({ liveSchema: 2, dirty: false, endpoints: 2 });
            const critical = smoke("v1.1.0", port, "3", { CRITICAL: "/health 200\n/items 200" });
            expect(critical.code).to.not.equal(0);
            expect(critical.stderr.trim().split("\n").pop()).to.match(/^smoke failed: critical endpoint \/items answered 503, expected 200/);
            expect(critical.stderr, "the container's last log lines").to.include(`smoke: last log lines of ${name}:`);
            const outside = smoke("v1.1.0", port, "3", { SCHEMA_MIN: "3", SCHEMA_MAX: "4" });
            expect(outside.stderr).to.include("smoke failed: the database is at schema 2, outside the range 3..4 that v1.1.0 runs on");
            psql("UPDATE schema_migrations SET dirty = true", db);
            expect(smoke("v1.1.0").stderr).to.include("smoke failed: the database is dirty at schema 2");
            const wrong = smoke("v1.0.0");
            expect(wrong.code).to.not.equal(0);
            expect(wrong.stderr).to.include("reports version v1.1.0, expected v1.0.0");
            const none = smoke("v1.1.0", await freePort(), "2");
            expect(none.code).to.not.equal(0);
            expect(none.stderr).to.include("failed after 2 attempts");
        } finally {
            dropDb(db);
        }
    });

    it("removes the container it started", () => {
        const id = containerId(name);
        const del = runScript(removeScript(), { NAME: name, PULUMI_COMMAND_STDOUT: `{"containerId":"${id}","startedAt":"x"}` });
        expect(del.code, del.stderr).to.equal(0);
        expect(containerId(name)).to.equal("");
    });
});
