// The resource graph of one `pulumi up`, as the engine receives it.
import { expect } from "chai";
import { backupScript } from "../../components/databaseBackup";
import { SECRET_SIG, runProgram, validConfig, valueOf } from "../support/mocks";

describe("deploy program (mocked engine)", function () {
    this.timeout(20000);

    it("orders backup → migrations → container → smoke test by registered dependencies", async () => {
        const run = await runProgram(validConfig());
        const dump = run.byName("backup-dump");
        const migrate = run.byName("migrations-migrate");
        const container = run.byName("app-container");
        const smoke = run.byName("smoke-check");
        expect(migrate.dependencies).to.include(dump.urn);
        expect(container.dependencies).to.include(migrate.urn);
        expect(smoke.dependencies).to.include(container.urn);
        expect(dump.dependencies).to.not.include(migrate.urn);
    });

    it("runs exactly the pinned image repo@digest, in migrations and the container", async () => {
        const run = await runProgram(validConfig());
        const ref = "127.0.0.1:5000/acme/api@sha256:" + "b".repeat(64);
        const env = (name: string) => run.byName(name).raw.environment as Record<string, unknown>;
        expect(env("migrations-migrate").IMAGE_REF).to.equal(ref);
        expect(env("app-container").IMAGE_REF).to.equal(ref);
        expect(await valueOf(run.exports.image as never)).to.equal(ref);
    });

    it("keys backup and migrations to the release identity", async () => {
        const run = await runProgram(validConfig());
        const identity = ["v1.1.0", "4d894ce32fa1ab24d29076b8ac6fc275a9bc145f", "127.0.0.1:5000/acme/api@sha256:" + "b".repeat(64), "2"];
        expect(run.byName("backup-dump").raw.triggers).to.deep.equal(identity);
        expect(run.byName("migrations-migrate").raw.triggers).to.deep.equal([...identity, "keep", ""]);
        expect(run.byName("app-container").raw.triggers).to.deep.equal(identity);
    });

    it("sends the database password to the engine only as a secret", async () => {
        const run = await runProgram(validConfig());
        const pw = (run.byName("backup-dump").raw.environment as Record<string, Record<string, unknown>>).PGPASSWORD;
        expect(pw[SECRET_SIG]).to.be.a("string");
        const url = (run.byName("migrations-migrate").raw.environment as Record<string, Record<string, unknown>>).DATABASE_URL;
        expect(url[SECRET_SIG]).to.be.a("string");
        const plain = JSON.stringify(await valueOf(run.exports.releaseRecord as never));
        expect(plain).to.not.include("s3cret-password-value");
    });

    it("hands migrations and the smoke test the release's schema range and critical endpoints", async () => {
        const run = await runProgram(validConfig({
            "release:schemaMin": "1", "release:schemaMax": "3",
            "api-server:criticalEndpoints": JSON.stringify([{ path: "/items", status: 200 }, { path: "/admin", status: 401 }]),
            "api-server:appDatabaseEnv": "DATABASE_URL",
        }));
        const migrate = run.byName("migrations-migrate").raw.environment as Record<string, unknown>;
        expect([migrate.SCHEMA_MIN, migrate.SCHEMA_MAX, migrate.STACK]).to.deep.equal(["1", "3", "unit"]);
        const smoke = run.byName("smoke-check").raw.environment as Record<string, unknown>;
        expect([smoke.SCHEMA_MIN, smoke.SCHEMA_MAX, smoke.CRITICAL]).to.deep.equal(["1", "3", "/items 200\n/admin 401"]);
        expect(run.byName("smoke-check").dependencies).to.include(run.byName("app-container").urn);
        const app = run.byName("app-container").raw.environment as Record<string, Record<string, unknown>>;
        expect(app.DATABASE_URL[SECRET_SIG], "the app's database URL is a secret").to.be.a("string");
        expect(app.APP_ENV_KEYS).to.equal("DATABASE_URL");
    });

    it("gives the backup no delete command, so no dump is removed by destroy or replacement", async () => {
        const run = await runProgram(validConfig());
        const dump = run.byName("backup-dump");
        expect(dump.raw.create).to.equal(backupScript());
        expect(dump.raw.delete).to.equal(undefined);
    });

    it("writes the release record into the outputs", async () => {
        const run = await runProgram(validConfig({ "release:notes": "adds items.note" }));
        const record = await valueOf(run.exports.releaseRecord as never) as Record<string, unknown>;
        expect(record).to.deep.include({
            version: "v1.1.0", gitSha: "4d894ce32fa1ab24d29076b8ac6fc275a9bc145f", gitTag: "v1.1.0",
            imageDigest: "sha256:" + "b".repeat(64), schemaVersion: 2, kind: "deploy", notes: "adds items.note",
            deployedAt: "2026-11-01T00:00:00Z",
        });
        expect(record.backup).to.deep.equal({ path: "/var/backups/api-server/pre_release_v1.1.0_20261101T000000Z.dump", sha256: "a".repeat(64), bytes: 1234, kind: "pre_release" });
        expect(record.liveSchema).to.deep.equal({ version: 2, dirty: false });
    });

    it("adds a restore after the safety backup and before migrations for a restore rollback", async () => {
        const run = await runProgram(validConfig({
            "api-server:kind": "rollback", "api-server:dbMode": "restore",
            "api-server:restoreDump": "/var/backups/api-server/pre_release_v1.1.0_x.dump", "api-server:restoreDumpSha256": "d".repeat(64),
        }));
        const restore = run.byName("restore-restore");
        expect(restore.dependencies).to.include(run.byName("backup-dump").urn);
        // The safety dump is named after the data it holds, never pre_release_*.
        const env = run.byName("backup-dump").raw.environment as Record<string, unknown>;
        expect(env.BACKUP_PREFIX).to.equal("safety_before_restore");
        expect(run.byName("migrations-migrate").dependencies).to.include(restore.urn);
    });

    it("has no restore step on a plain deploy", async () => {
        const run = await runProgram(validConfig());
        expect(run.resources.map(r => r.name)).to.not.include("restore-restore");
    });

    it("lets an app-only rollback skip the dump when the schema will not change, and only that", async () => {
        const env = (run: Awaited<ReturnType<typeof runProgram>>, name: string) => run.byName(name).raw.environment as Record<string, unknown>;
        const keep = await runProgram(validConfig({ "api-server:kind": "rollback", "api-server:dbMode": "keep" }));
        expect(env(keep, "backup-dump").SKIP_AT_SCHEMA, "the release's target schema").to.equal("2");
        expect(env(keep, "backup-dump").SCHEMA_TABLE).to.equal("schema_migrations");
        expect(env(keep, "migrations-migrate"), "migrations learn what the backup took").to.have.property("BACKUP_TAKEN");
        expect(env(keep, "migrations-migrate"), "and the schema it read").to.have.property("BACKUP_SCHEMA");
        for (const cfg of <Record<string, string>[]>[
            {},
            { "api-server:kind": "rollback", "api-server:dbMode": "down", "api-server:downImage": "127.0.0.1:5000/acme/api@sha256:" + "e".repeat(64) },
            { "api-server:kind": "rollback", "api-server:dbMode": "keep", "api-server:offsiteEnabled": "true" },
        ]) {
            const run = await runProgram(validConfig(cfg));
            expect(env(run, "backup-dump"), JSON.stringify(cfg)).to.not.have.property("SKIP_AT_SCHEMA");
            expect(env(run, "migrations-migrate"), JSON.stringify(cfg)).to.not.have.property("BACKUP_TAKEN");
            expect(env(run, "migrations-migrate"), JSON.stringify(cfg)).to.not.have.property("BACKUP_SCHEMA");
        }
    });

    it("passes the down image to migrations for a down rollback", async () => {
        const down = "127.0.0.1:5000/acme/api@sha256:" + "e".repeat(64);
        const run = await runProgram(validConfig({ "api-server:kind": "rollback", "api-server:dbMode": "down", "api-server:downImage": down }));
        const env = run.byName("migrations-migrate").raw.environment as Record<string, unknown>;
        expect(env.DB_MODE).to.equal("down");
        expect(env.DOWN_IMAGE).to.equal(down);
    });

    it("pulls the release image by digest with docker.RemoteImage before the backup, and keeps old images", async () => {
        const run = await runProgram(validConfig({ "api-server:dockerHost": "ssh://deploy@db1.example" }));
        const image = run.byName("image-pull");
        const provider = run.byName("docker-host");
        expect(image.type).to.equal("docker:index/remoteImage:RemoteImage");
        expect(image.raw.name).to.equal("127.0.0.1:5000/acme/api@sha256:" + "b".repeat(64));
        expect(image.raw.keepLocally, "a replaced release image stays on the host for a rollback").to.equal(true);
        expect(provider.type).to.equal("pulumi:providers:docker");
        expect(provider.raw.host).to.equal("ssh://deploy@db1.example");
        expect(run.byName("backup-dump").dependencies).to.include(image.urn);
        expect(run.resources.some(r => r.type === "docker:index/container:Container"), "no docker.Container for the service").to.equal(false);
    });

    it("with a proxy: Caddy as a docker.Container pinned by digest, the switch behind it, the smoke test through it", async () => {
        const proxyImage = "127.0.0.1:5000/acme/proxy@sha256:" + "c".repeat(64);
        const run = await runProgram(validConfig({ "api-server:proxyPort": "8443", "api-server:proxyImage": proxyImage }));
        const proxy = run.byName("proxy-container");
        expect(proxy.type).to.equal("docker:index/container:Container");
        expect(proxy.raw.networkMode).to.equal("host");
        expect(run.byName("proxy-image").raw.name).to.equal(proxyImage);
        expect((proxy.raw.uploads as { file: string }[])[0].file).to.equal("/config/proxy.json");
        const app = run.byName("app-container");
        expect(app.dependencies).to.include(proxy.urn);
        const env = app.raw.environment as Record<string, string>;
        expect(env.SLOT_PORTS).to.equal("8080 8081");
        expect(env.PROXY_ADMIN).to.equal("127.0.0.1:2019");
        expect(String(app.raw.create)).to.include("the proxy sends traffic to");
        expect((run.byName("smoke-check").raw.environment as Record<string, string>).BASE_URL).to.equal("http://127.0.0.1:8443");
        const without = await runProgram(validConfig());
        expect(without.resources.some(r => r.type === "docker:index/container:Container"), "no proxy unless configured").to.equal(false);
    });

    it("refuses the removed appDriver provider in one line naming the key", async () => {
        let err: unknown;
        try {
            await runProgram(validConfig({ "api-server:appDriver": "provider" }));
        } catch (e) {
            err = e;
        }
        expect(String(err)).to.include('api-server:appDriver "provider" is no longer supported');
    });

    it("writes the release bundle after the last smoke test, with secrets redacted, and puts its hash in the record", async () => {
        // The language host names the secret keys in the program's environment, as upstream's does.
        process.env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify(["api-server:dbPassword", "api-server:webhookUrl"]);
        let run: Awaited<ReturnType<typeof runProgram>>;
        try {
            run = await runProgram(validConfig({ "api-server:webhookUrl": "https://hooks.example/T0/B0/secret-token" }));
        } finally {
            delete process.env.PULUMI_CONFIG_SECRET_KEYS;
        }
        const bundle = run.byName("artifact-bundle");
        expect(bundle.dependencies).to.include(run.byName("smoke-check").urn);
        const env = bundle.raw.environment as Record<string, string>;
        const config = JSON.parse(env.ARTIFACT_CONFIG) as Record<string, unknown>;
        expect(config["api-server:dbPassword"]).to.equal("[secret]");
        expect(config["api-server:webhookUrl"]).to.equal("[secret]");
        expect(config["release:version"]).to.equal("v1.1.0");
        expect(env.ARTIFACT_CONFIG + env.ARTIFACT_RECORD).to.not.include("s3cret-password-value").and.not.include("secret-token");
        expect(JSON.parse(env.ARTIFACT_RECORD)).to.include({ version: "v1.1.0", gitSha: "4d894ce32fa1ab24d29076b8ac6fc275a9bc145f" });
        expect(env.ARTIFACT_IMAGES).to.equal("api-server 127.0.0.1:5000/acme/api@sha256:" + "b".repeat(64));
        expect(env).to.include({ IMAGE_REF: "127.0.0.1:5000/acme/api@sha256:" + "b".repeat(64), MIGRATIONS_DIR: "/migrations" });
        expect(bundle.raw).to.not.have.property("delete");
        const record = await valueOf(run.exports.releaseRecord as never) as { artifact: unknown };
        expect(record.artifact).to.deep.equal({ path: "/var/backups/api-server/release_v1.1.0_20261101T000000Z.tar.gz", sha256: "e".repeat(64), bytes: 2048 });
    });

    it("refuses a webhook URL stored in plain text, naming the key", async () => {
        let err: unknown;
        await runProgram(validConfig({ "api-server:webhookUrl": "https://hooks.example/T0/B0/plain" })).catch(e => { err = e; });
        expect(String(err)).to.include("api-server:webhookUrl is stored in plain text, but it carries the webhook's token");
    });

    it("adds a private, versioned, encrypted off-site bucket only when enabled", async () => {
        const off = await runProgram(validConfig());
        expect(off.resources.some(r => r.type.startsWith("aws:"))).to.equal(false);
        const on = await runProgram(validConfig({ "api-server:offsiteEnabled": "true" }));
        const types = on.resources.map(r => r.type);
        expect(types).to.include.members([
            "aws:s3/bucket:Bucket", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "aws:s3/bucketObjectv2:BucketObjectv2",
        ]);
        const objects = on.resources.filter(r => r.type === "aws:s3/bucketObjectv2:BucketObjectv2").map(r => r.raw.key);
        expect(objects, "the dump and the release bundle").to.deep.equal(["dumps/pre_release_v1.1.0_20261101T000000Z.dump", "artifacts/release_v1.1.0_20261101T000000Z.tar.gz"]);
        const block = on.resources.find(r => r.type === "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")!;
        expect(block.raw).to.deep.include({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    });
});
