// Small pure functions: result parsing, URLs, off-site keys, the human release record, environment defaults.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compareCounts, countsTable, parseCounts } from "../../cli/drill";
import { trunkParts } from "../../cli/cut";
import { toolEnv } from "../../cli/workspace";
import { databaseUrl } from "../../components/config";
import { offsiteKey } from "../../components/offsiteCopy";
import { renderReleaseMarkdown, ReleaseRecord } from "../../components/record";
import { configSecretKeys, redactedConfig } from "../../components/releaseArtifact";
import { highestMigration } from "../../components/schema";
import { lastJsonLine, withDockerHost } from "../../components/shell";

describe("pure helpers", () => {
    it("splits a trunk ref into its remote and branch, and reads a release's schema from its highest up-migration", () => {
        expect(trunkParts("origin/main")).to.deep.equal({ remote: "origin", branch: "main" });
        expect(trunkParts("upstream/release/2.x")).to.deep.equal({ remote: "upstream", branch: "release/2.x" });
        expect(trunkParts("main")).to.deep.equal({ remote: "origin", branch: "main" });
        expect(highestMigration(["001_a.up.sql", "001_a.down.sql", "012_b.up.sql", "013_c.down.sql", "README"])).to.equal(12);
        expect(highestMigration([])).to.equal(0);
    });

    it("keeps the stack's config for the release bundle with every secret key redacted, objects parsed", () => {
        const all = {
            "api-server:services": '[{"name":"api","env":{"A":"x"}}]', "api-server:appEnv": '{"TOKEN":"t0p"}',
            "api-server:dbPassword": "pw", "api-server:webhookUrl": "https://hooks.example/x", "release:version": "v1.0.0", "api-server:odd": "{not json",
        };
        expect(redactedConfig(all, ["api-server:appEnv"])).to.deep.equal({
            "api-server:appEnv": "[secret]", "api-server:dbPassword": "[secret]", "api-server:odd": "{not json",
            "api-server:services": [{ name: "api", env: { A: "x" } }], "api-server:webhookUrl": "[secret]", "release:version": "v1.0.0",
        });
        expect(configSecretKeys({ PULUMI_CONFIG_SECRET_KEYS: '["api-server:appEnv"]' })).to.deep.equal(["api-server:appEnv"]);
        expect(configSecretKeys({})).to.deep.equal([]);
        expect(configSecretKeys({ PULUMI_CONFIG_SECRET_KEYS: "garbage" })).to.deep.equal([]);
    });

    it("reads a script's JSON result from its last JSON line", () => {
        expect(lastJsonLine<{ a: number }>('progress\n{"a":1}\n')).to.deep.equal({ a: 1 });
        expect(() => lastJsonLine("no result")).to.throw("no JSON result line");
    });

    it("percent-encodes every part of the database URL", () => {
        expect(databaseUrl({ host: "db", port: 5432, database: "app", user: "app" }, "p@ss/w:rd?")).to.equal(
            "postgres://app:p%40ss%2Fw%3Ard%3F@db:5432/app?sslmode=disable");
        expect(databaseUrl({ host: "::1", port: 5432, database: "app", user: "app" }, "x")).to.include("@[::1]:5432/");
    });

    it("sets DOCKER_HOST only when one is configured", () => {
        expect(withDockerHost({ A: "1" }, "")).to.deep.equal({ A: "1" });
        expect(withDockerHost({ A: "1" }, "ssh://deploy@api-1")).to.deep.equal({ A: "1", DOCKER_HOST: "ssh://deploy@api-1" });
    });

    it("keys off-site dumps by file name", () => {
        expect(offsiteKey("/var/backups/api-server/pre_release_v1.0.0_x.dump")).to.equal("dumps/pre_release_v1.0.0_x.dump");
    });

    it("renders every field the playbook requires in releases/<version>.md", () => {
        const r: ReleaseRecord = {
            version: "v2.1.0", gitSha: "0123456789abcdef0123456789abcdef01234567", gitTag: "v2.1.0",
            image: "ghcr.io/acme/api", imageRef: "ghcr.io/acme/api@sha256:" + "1".repeat(64), imageDigest: "sha256:" + "1".repeat(64),
            schemaVersion: 7, schemaRange: "6..7", liveSchema: { version: 7, dirty: false },
            notes: "migrate: adds items.note; env: none; flags: none",
            backup: { path: "/var/backups/api-server/pre_release_v2.1.0_x.dump", sha256: "2".repeat(64), bytes: 10, kind: "pre_release" },
            deployedAt: "2026-11-01T00:00:00Z", kind: "rollback", replacesVersion: "v2.2.0", dbMode: "keep",
        };
        const md = renderReleaseMarkdown(r, [{ kind: "deploy", time: "t1", result: "succeeded" }]);
        for (const needle of [r.gitSha, "`v2.1.0`", "ghcr.io/acme/api:v2.1.0", r.imageDigest, "| schema version (target) | 7 |", "| schema range the code runs on | 6..7 |", "| live schema after the update | 7 (clean) |", r.backup.path, r.backup.sha256, r.notes, "replaced v2.2.0", "| t1 | deploy | succeeded | - |"]) {
            expect(md).to.include(needle);
        }
    });

    it("says in the record when an app-only rollback took no dump", () => {
        const r: ReleaseRecord = {
            version: "v2.1.0", gitSha: "0123456789abcdef0123456789abcdef01234567", gitTag: "v2.1.0",
            image: "ghcr.io/acme/api", imageRef: "ghcr.io/acme/api@sha256:" + "1".repeat(64), imageDigest: "sha256:" + "1".repeat(64),
            schemaVersion: 7, schemaRange: "6..7", liveSchema: { version: 7, dirty: false }, notes: "",
            backup: { path: "", sha256: "", bytes: 0, kind: "none" },
            deployedAt: "2026-11-01T00:00:00Z", kind: "rollback", replacesVersion: "v2.2.0", dbMode: "keep",
        };
        const md = renderReleaseMarkdown(r, []);
        expect(md).to.include("| backup | none: an app-only rollback that changed no schema takes no dump");
        expect(md).to.not.include("backup sha256");
    });

    it("points the Automation API at the project's toolchain and local backend unless told otherwise", () => {
        const env = toolEnv({ PATH: "/usr/bin" }, "/srv/project");
        expect(env.PATH).to.equal("/srv/project/.tools/bin:/usr/bin");
        expect(env.PULUMI_BACKEND_URL).to.equal("file:///srv/project/.state");
        expect(env.PULUMI_CONFIG_PASSPHRASE_FILE).to.equal("/srv/project/.local/passphrase");
        expect(env.PULUMI_HOME, "the stand-ins live in the project's own Pulumi home").to.equal("/srv/project/.tools/pulumi-home");
        expect(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).to.equal("true");
        const own = toolEnv({ PATH: "/usr/bin", PULUMI_BACKEND_URL: "s3://bucket", PULUMI_CONFIG_PASSPHRASE: "x" }, "/srv/project");
        expect(own.PULUMI_BACKEND_URL).to.equal("s3://bucket");
        expect(own.PULUMI_CONFIG_PASSPHRASE_FILE).to.equal(undefined);
    });

    it("leaves a normal Pulumi install on PATH, its plugins and its settings as the user has them", () => {
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "user-pulumi-"));
        fs.writeFileSync(path.join(bin, "pulumi"), "#!/bin/sh\n", { mode: 0o755 });
        try {
            const env = toolEnv({ PATH: `${bin}:/usr/bin` }, "/srv/project");
            expect(env.PATH, "PATH untouched").to.equal(undefined);
            expect(env.PULUMI_HOME).to.equal(undefined);
            expect(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).to.equal(undefined);
            expect(toolEnv({ PATH: `${bin}:/usr/bin`, DEPLOYCTL_TOOLCHAIN: "project" }, "/srv/project").PULUMI_HOME).to.equal("/srv/project/.tools/pulumi-home");
        } finally {
            fs.rmSync(bin, { recursive: true, force: true });
        }
    });
});

describe("restore drill comparison", () => {
    it("parses psql's table|count lines and flags every difference", () => {
        const restored = parseCounts("public.items|3\npublic.schema_migrations|1\n");
        expect(restored).to.deep.equal({ "public.items": 3, "public.schema_migrations": 1 });
        const rows = compareCounts(restored, { "public.items": 4, "public.schema_migrations": 1, "public.extra": 0 });
        expect(rows.map(r => [r.table, r.match])).to.deep.equal([
            ["public.extra", false], ["public.items", false], ["public.schema_migrations", true],
        ]);
        expect(countsTable(rows)).to.match(/public\.extra\s+missing\s+0\s+differs/);
    });
});
