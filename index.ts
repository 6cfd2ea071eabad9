// The deploy program: validated release config → image pulled by digest → verified backup → migrations
// → deploy by digest → smoke test → release record (the stack outputs).
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { AppService } from "./components/appService";
import { ConfigError, parseDeployConfig, PROJECT, imageRef, releaseIdentity } from "./components/config";
import { DatabaseBackup } from "./components/databaseBackup";
import { DatabaseRestore } from "./components/databaseRestore";
import { Migrations, databaseUrl } from "./components/migrations";
import { OffsiteCopy } from "./components/offsiteCopy";
import { Proxy } from "./components/proxy";
import { ReleaseRecord } from "./components/record";
import { ReleaseImage } from "./components/releaseImage";
import { showRange } from "./components/schema";
import { SmokeTest } from "./components/smokeTest";

const project = new pulumi.Config(PROJECT);
const { release, settings: s } = (() => {
    try {
        return parseDeployConfig(
            { get: (ns, key) => new pulumi.Config(ns).get(key) },
            project.getObject<unknown>("appEnv"),
            project.getObject<unknown>("criticalEndpoints"),
        );
    } catch (err) {
        // A clean error: one line per bad key, no stack trace, before any resource changes.
        if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
        throw err;
    }
})();
const password = project.getSecret("dbPassword");
if (password === undefined) {
    throw new pulumi.RunError(`${PROJECT}:dbPassword is not set: run pulumi config set --secret dbPassword <password>`);
}
const db = { host: s.dbHost, port: s.dbPort, database: s.dbName, user: s.dbUser, password };
const identity = releaseIdentity(release);
const ref = imageRef(release);

// The stack's Docker host, and the release image on it before anything changes.
const dockerHost = new docker.Provider("docker-host", s.dockerHost ? { host: s.dockerHost } : {});
const releaseImage = new ReleaseImage("image", { imageRef: ref, provider: dockerHost });

// With a proxy, the service switches behind it with no dropped request.
const proxyArgs = { port: s.proxyPort, adminPort: s.proxyAdminPort };
const proxy = s.proxyPort > 0
    ? new Proxy("proxy", { ...proxyArgs, name: `${s.appName}-proxy`, image: s.proxyImage, drainSeconds: s.drainSeconds, provider: dockerHost })
    : undefined;

// Before a restore, the backup is the safety dump of the data about to be discarded,
// named after the release whose data it holds, never pre_release_*.
const restoring = s.dbMode === "restore";
const backup = new DatabaseBackup("backup", {
    db, backupDir: s.backupDir, triggers: identity, verify: s.backupVerify, retain: s.backupRetain,
    kind: restoring ? "safety_before_restore" : "pre_release",
    version: restoring ? s.replacesVersion : release.version,
}, { dependsOn: [releaseImage] });
const databaseUrlSecret = password.apply(p => databaseUrl(db, p));

const restore = s.dbMode === "restore"
    ? new DatabaseRestore("restore", { db, dump: s.restoreDump, sha256: s.restoreDumpSha256 }, { dependsOn: [backup] })
    : undefined;

const migrations = new Migrations("migrations", {
    imageRef: ref, migrateCommand: s.migrateCommand, targetVersion: release.schemaVersion,
    range: release.schemaRange, migrationsDir: s.migrationsDir, requireDown: s.requireDownMigrations,
    stack: pulumi.getStack(),
    dbMode: s.dbMode, downImage: s.downImage, dockerHost: s.dockerHost,
    databaseUrl: databaseUrlSecret,
    triggers: [...identity, s.dbMode, s.downImage],
}, { dependsOn: restore ? [backup, restore] : [backup] });

const app = new AppService("app", {
    imageRef: ref, name: s.appName, port: s.appPort, appHost: s.appHost,
    healthPath: s.healthPath, healthTimeoutSeconds: s.smokeRetries * s.smokeTimeoutSeconds,
    labels: { version: release.version, gitSha: release.gitSha, digest: release.imageDigest },
    env: s.appDatabaseEnv ? { ...s.appEnv, [s.appDatabaseEnv]: pulumi.secret(databaseUrlSecret) } : s.appEnv,
    dockerHost: s.dockerHost,
    // A new proxy starts with no upstream: the switch runs again to set it.
    triggers: proxy ? pulumi.all([proxy.containerId]).apply(([id]) => [...identity, id]) : identity,
    proxy: proxy ? {
        slotPorts: [s.appPort, s.appPort + 1], admin: `127.0.0.1:${s.proxyAdminPort}`, drainSeconds: s.drainSeconds,
    } : undefined,
}, { dependsOn: proxy ? [migrations, proxy] : [migrations] });

// The public address: the proxy's port, or the service's own.
const publicPort = s.proxyPort > 0 ? s.proxyPort : s.appPort;

const smoke = new SmokeTest("smoke", {
    baseUrl: `http://${s.appHost.includes(":") ? `[${s.appHost}]` : s.appHost}:${publicPort}`, healthPath: s.healthPath,
    expectVersion: release.version, critical: s.criticalEndpoints, range: release.schemaRange,
    db, schemaTable: s.schemaTable, container: app.containerName, dockerHost: s.dockerHost,
    retries: s.smokeRetries, timeoutSeconds: s.smokeTimeoutSeconds,
    triggers: pulumi.all([app.containerId]).apply(([id]) => [...identity, id]),
}, { dependsOn: [app] });

const offsite = s.offsiteEnabled
    ? new OffsiteCopy("offsite", { dumpPath: backup.path, sha256: backup.sha256 }, { dependsOn: [backup] })
    : undefined;

const record: pulumi.Output<ReleaseRecord> = pulumi.all([backup.path, backup.sha256, backup.bytes, app.startedAt, smoke.liveSchema, smoke.dirty])
    .apply(([path, sha256, bytes, startedAt, liveSchema, dirty]) => ({
        version: release.version,
        gitSha: release.gitSha,
        gitTag: release.version,
        image: release.image,
        imageRef: ref,
        imageDigest: release.imageDigest,
        schemaVersion: release.schemaVersion,
        schemaRange: showRange(release.schemaRange),
        liveSchema: { version: liveSchema, dirty },
        notes: release.notes,
        backup: { path, sha256, bytes, kind: backup.kind },
        ...(restoring ? { restoredDump: { path: s.restoreDump, sha256: s.restoreDumpSha256 } } : {}),
        deployedAt: startedAt,
        kind: s.kind,
        replacesVersion: s.replacesVersion,
        dbMode: s.dbMode,
    }));

export const version = release.version;
export const gitSha = release.gitSha;
export const image = ref;
export const imageDigest = release.imageDigest;
export const schemaVersion = release.schemaVersion;
export const schema = pulumi.all([smoke.liveSchema, smoke.dirty]).apply(([live, dirty]) => ({
    target: release.schemaVersion, range: showRange(release.schemaRange), live, dirty,
}));
export const kind = s.kind;
export const replacesVersion = s.replacesVersion;
export const releaseRecord = record;
export const migrated = pulumi.all([migrations.fromVersion, migrations.toVersion]).apply(([from, to]) => ({ from, to }));
export const offsiteCopy = offsite ? pulumi.interpolate`s3://${offsite.bucket}/${offsite.key}` : "off";
