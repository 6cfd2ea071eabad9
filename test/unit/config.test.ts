// Every config rule rejects its bad values with its message, and accepts good ones.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import {
    ConfigError, DEFAULTS, checkDigest, checkGitSha, checkRepository, checkSchemaVersion, checkVersion,
    imageRef, parseDeployConfig, RELEASE_IDENTITY_KEYS, RELEASE_KEYS, releaseIdentity,
} from "../../components/config";
import { readmeErrorRows } from "../support/configTable";

function source(values: Record<string, string>) {
    return { get: (ns: string, key: string) => values[`${ns}:${key}`] };
}

const GOOD: Record<string, string> = {
    "release:version": "v2.1.0",
    "release:gitSha": "0123456789abcdef0123456789abcdef01234567",
    "release:image": "registry.example.com:5000/acme/api",
    "release:imageDigest": "sha256:" + "0f".repeat(32),
    "release:schemaVersion": "20261101120000",
};

function problemsOf(values: Record<string, string>, appEnv?: unknown): string[] {
    try {
        parseDeployConfig(source(values), appEnv);
    } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        return (err as ConfigError).problems;
    }
    return [];
}

describe("release config validation", () => {
    it("accepts a complete, valid release and applies every default", () => {
        const { release, settings } = parseDeployConfig(source(GOOD));
        expect(release).to.deep.equal({
            version: "v2.1.0", gitSha: GOOD["release:gitSha"], image: GOOD["release:image"],
            imageDigest: GOOD["release:imageDigest"], schemaVersion: 20261101120000, notes: "",
            schemaRange: { min: undefined, max: undefined }, images: {},
        });
        expect(settings.backupDir).to.equal("/var/backups/api-server");
        expect(settings.dbMode).to.equal("keep");
        expect(settings.appPort).to.equal(8080);
        expect(imageRef(release)).to.equal(`${GOOD["release:image"]}@${GOOD["release:imageDigest"]}`);
        expect(releaseIdentity(release)).to.deep.equal(["v2.1.0", GOOD["release:gitSha"], imageRef(release), "20261101120000"]);
    });

    it("makes the release's identity of exactly the RELEASE_IDENTITY_KEYS (deployctl starts a backup ahead only when one changes)", () => {
        const other: Record<string, string> = {
            version: "v2.1.1", gitSha: "1".repeat(40), image: "registry.example.com:5000/acme/web", imageDigest: "sha256:" + "1f".repeat(32),
            schemaVersion: "20261101120001", notes: "other notes", schemaMin: "1", schemaMax: "99999999999999",
            images: JSON.stringify({ worker: "registry.example.com:5000/acme/worker@sha256:" + "3f".repeat(32) }),
        };
        const bundle: Record<string, string> = {
            ...GOOD, "release:images": JSON.stringify({ worker: "registry.example.com:5000/acme/worker@sha256:" + "2f".repeat(32) }),
            "api-server:proxyPort": "8443", "api-server:proxyImage": "registry.example.com:5000/acme/proxy@sha256:" + "4f".repeat(32),
        };
        const services = [{ name: "api", port: 9000, migrations: true }, { name: "worker", port: 9010, publicPort: 8444 }];
        const base = releaseIdentity(parseDeployConfig(source(bundle), undefined, undefined, services).release);
        const changing = RELEASE_KEYS.filter(k => {
            const { release } = parseDeployConfig(source({ ...bundle, [`release:${k}`]: other[k] }), undefined, undefined, services);
            return JSON.stringify(releaseIdentity(release)) !== JSON.stringify(base);
        });
        expect(changing).to.deep.equal(RELEASE_IDENTITY_KEYS);
    });

    it("names every missing release key", () => {
        const problems = problemsOf({});
        for (const k of ["version", "gitSha", "image", "imageDigest", "schemaVersion"]) {
            expect(problems.some(p => p.startsWith(`release:${k} is not set`)), k).to.equal(true);
        }
    });

    const bad: [string, (k: string, v: string) => string | undefined, string[]][] = [
        ["version", checkVersion, ["latest", "v1.2", "1.2.3", "V1.2.3", "v01.2.3", "v1.2.3.4", "v1.2.3 ", "", "v1.2.3;rm -rf /", "v1.0.0+build.5"]],
        ["gitSha", checkGitSha, ["0123456789abcdef0123456789abcdef0123456", "0123456789ABCDEF0123456789ABCDEF01234567", "HEAD", "0123456"]],
        ["image", checkRepository, ["acme/api:latest", "acme/api:v2.1.0", "acme/api@sha256:" + "0".repeat(64), "Acme/API", "acme api", "acme/api$(id)"]],
        ["imageDigest", checkDigest, ["sha256:" + "0F".repeat(32), "sha256:abc", "sha512:" + "0".repeat(64), "0".repeat(64), "latest"]],
        ["schemaVersion", checkSchemaVersion, ["-1", "1.5", "abc", "", "99999999999999999999"]],
    ];
    for (const [key, rule, values] of bad) {
        for (const value of values) {
            it(`rejects release:${key} = ${JSON.stringify(value)}`, () => {
                expect(rule(`release:${key}`, value)).to.be.a("string").and.match(new RegExp(`^release:${key} `));
                expect(problemsOf({ ...GOOD, [`release:${key}`]: value }).join("\n")).to.include(`release:${key}`);
            });
        }
    }

    const good: [(k: string, v: string) => string | undefined, string[]][] = [
        [checkVersion, ["v0.0.1", "v2.1.0", "v10.20.30", "v1.0.0-rc.1"]],
        [checkGitSha, ["0123456789abcdef0123456789abcdef01234567"]],
        [checkRepository, ["api", "acme/api", "127.0.0.1:5000/acme/api", "ghcr.io/jorihn/calendar_manager-api"]],
        [checkDigest, ["sha256:" + "a1".repeat(32)]],
        [checkSchemaVersion, ["0", "1", "20261101120000"]],
    ];
    for (const [rule, values] of good) {
        for (const value of values) {
            it(`accepts ${JSON.stringify(value)} (${rule.name})`, () => expect(rule("k", value)).to.equal(undefined));
        }
    }

    it("never echoes the database password", () => {
        expect(problemsOf({ ...GOOD, "api-server:dbHost": "bad host" }).join()).to.not.include("dbPassword");
    });

    it("rejects appEnv entries that are not NAME=string", () => {
        expect(problemsOf(GOOD, { "BAD-NAME": "x" })[0]).to.include("appEnv key");
        expect(problemsOf(GOOD, ["A=B"])[0]).to.include("appEnv is invalid");
        expect(parseDeployConfig(source(GOOD), { LOG_LEVEL: "info", WORKERS: 4 }).settings.appEnv).to.deep.equal({ LOG_LEVEL: "info", WORKERS: "4" });
    });

    it("ties the rollback keys together", () => {
        expect(problemsOf({ ...GOOD, "api-server:dbMode": "down", "api-server:kind": "rollback" }).join()).to.include("downImage is not set");
        expect(problemsOf({ ...GOOD, "api-server:dbMode": "restore", "api-server:kind": "rollback" }).join()).to.include("restoreDump and restoreDumpSha256");
        expect(problemsOf({ ...GOOD, "api-server:dbMode": "down", "api-server:downImage": "a/b@sha256:" + "0".repeat(64) }).join()).to.include("only for a rollback");
    });

    it("keeps the code defaults identical to the defaults declared in Pulumi.yaml", () => {
        const yaml = fs.readFileSync(path.resolve(__dirname, "..", "..", "..", "Pulumi.yaml"), "utf8");
        const declared: Record<string, string> = {};
        let key = "";
        for (const line of yaml.split("\n")) {
            const k = /^ {2}([A-Za-z0-9]+):\s*$/.exec(line);
            if (k) key = k[1];
            const d = /^ {4}default:\s*(.*)$/.exec(line);
            if (d && key) declared[key] = d[1].replace(/^"(.*)"$/, "$1");
        }
        expect(declared).to.deep.equal(DEFAULTS);
    });

    describe("the README's config error table", () => {
        const rows = readmeErrorRows();
        it("has rows", () => expect(rows.length).to.be.greaterThan(10));
        for (const row of rows) {
            it(`${row.key} = ${JSON.stringify(row.value)} fails with the documented message`, () => {
                const problems = problemsOf({ ...GOOD, [row.key]: row.value });
                expect(problems, `no error for ${row.key}=${row.value}`).to.have.length.greaterThan(0);
                expect(problems).to.include(row.message);
            });
        }
    });
});

describe("the example stacks", () => {
    for (const stack of ["prod", "staging"]) {
        it(`Pulumi.${stack}.yaml passes validation`, () => {
            const text = fs.readFileSync(path.resolve(__dirname, "..", "..", "..", `Pulumi.${stack}.yaml`), "utf8");
            const values: Record<string, string> = {};
            for (const line of text.split("\n")) {
                const m = /^ {2}([a-z-]+:[A-Za-z0-9]+):\s*"?(.*?)"?\s*$/.exec(line);
                if (m) values[m[1]] = m[2];
            }
            const { release, settings } = parseDeployConfig(source(values));
            expect(release.version).to.equal("v2.1.0");
            expect(settings.backupDir).to.equal("/var/backups/api-server");
            expect(settings.dockerHost).to.match(/^ssh:\/\//);
        });
    }
});
