// The deploy program: validated release config → images pulled by digest → (maintenance on) →
// verified backup → migrations, once → each service of the bundle switched in order, each
// smoke-tested before the next → (maintenance off) → release record (the stack outputs).
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { AppService } from "./components/appService";
import { ConfigError, parseDeployConfig, PROJECT, releaseIdentity, serviceIdentity } from "./components/config";
import { DatabaseBackup } from "./components/databaseBackup";
import { DatabaseRestore } from "./components/databaseRestore";
import { Maintenance } from "./components/maintenance";
import { Migrations, databaseUrl } from "./components/migrations";
import { OffsiteCopy } from "./components/offsiteCopy";
import { Proxy } from "./components/proxy";
import { ReleaseRecord, ServiceRecord } from "./components/record";
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
            project.getObject<unknown>("services"),
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
const primary = s.services.find(x => x.migrations)!;
// A single-service stack keeps its resource names (image, app, smoke); a bundle's carry the service's name.
const named = (base: string, service: string) => s.bundle ? `${base}-${service}` : base;
const url = (port: pulumi.Input<number>) => pulumi.interpolate`http://${s.appHost.includes(":") ? `[${s.appHost}]` : s.appHost}:${port}`;

// The stack's Docker host, and every image of the release on it before anything changes.
const dockerHost = new docker.Provider("docker-host", s.dockerHost ? { host: s.dockerHost } : {});
const images = s.services.map(svc => new ReleaseImage(named("image", svc.name), { imageRef: svc.imageRef, provider: dockerHost }));

// With a proxy, the services switch behind it with no dropped request.
const proxied = s.proxyPort > 0;
const admin = `127.0.0.1:${s.proxyAdminPort}`;
const proxy = proxied
    ? new Proxy("proxy", {
        adminPort: s.proxyAdminPort, name: `${s.appName}-proxy`, image: s.proxyImage, drainSeconds: s.drainSeconds, provider: dockerHost,
        services: s.services.map(svc => ({ slot: svc.container, publicPort: svc.publicPort, healthPath: svc.healthPath })),
    })
    : undefined;

// Maintenance goes on before the backup (no write is accepted after it, so the backup holds
// every accepted write) and off after the last smoke test.
const maintenanceArgs = proxy ? { on: s.maintenance, message: s.maintenanceMessage, admin, proxyContainerId: proxy.containerId } : undefined;
const maintenanceOn = maintenanceArgs && s.maintenance ? new Maintenance("maintenance", maintenanceArgs, { dependsOn: [proxy!] }) : undefined;

// Before a restore, the backup is the safety dump of the data about to be discarded,
// named after the release whose data it holds, never pre_release_*.
// An app-only rollback (--db keep) takes no dump when the database is clean at the release's
// schema or ahead, since it changes no schema (checked by the backup step against the live
// database); with off-site copies on, every update still takes one, as each is uploaded.
const restoring = s.dbMode === "restore";
const appOnly = s.kind === "rollback" && s.dbMode === "keep" && !s.offsiteEnabled;
const backup = new DatabaseBackup("backup", {
    db, backupDir: s.backupDir, triggers: identity, verify: s.backupVerify, retain: s.backupRetain,
    kind: restoring ? "safety_before_restore" : "pre_release",
    version: restoring ? s.replacesVersion : release.version,
    ...(appOnly ? { skipAtSchema: release.schemaVersion, schemaTable: s.schemaTable } : {}),
}, { dependsOn: [...images, ...(maintenanceOn ? [maintenanceOn] : [])] });
const databaseUrlSecret = password.apply(p => databaseUrl(db, p));

const restore = s.dbMode === "restore"
    ? new DatabaseRestore("restore", { db, dump: s.restoreDump, sha256: s.restoreDumpSha256 }, { dependsOn: [backup] })
    : undefined;

// Migrations run once per release, from the image of the service that owns them.
const migrations = new Migrations("migrations", {
    imageRef: primary.imageRef, migrateCommand: s.migrateCommand, targetVersion: release.schemaVersion,
    range: release.schemaRange, migrationsDir: s.migrationsDir, requireDown: s.requireDownMigrations,
    stack: pulumi.getStack(),
    dbMode: s.dbMode, downImage: s.downImage, dockerHost: s.dockerHost,
    databaseUrl: databaseUrlSecret,
    triggers: [...identity, s.dbMode, s.downImage],
    ...(appOnly ? { backupTaken: backup.taken } : {}),
}, { dependsOn: restore ? [backup, restore] : [backup] });

// The services switch in their declared order; each one only after the one before it passed its smoke test.
let previous: pulumi.Resource[] = proxy ? [migrations, proxy] : [migrations];
const running = s.services.map(svc => {
    const ident = serviceIdentity(release, svc);
    const app = new AppService(named("app", svc.name), {
        imageRef: svc.imageRef, name: svc.container, port: svc.port, appHost: s.appHost,
        healthPath: svc.healthPath, healthTimeoutSeconds: s.smokeRetries * s.smokeTimeoutSeconds,
        labels: { version: release.version, gitSha: release.gitSha, digest: svc.imageRef.slice(svc.imageRef.indexOf("@") + 1) },
        env: svc.migrations && s.appDatabaseEnv ? { ...svc.env, [s.appDatabaseEnv]: pulumi.secret(databaseUrlSecret) } : svc.env,
        dockerHost: s.dockerHost,
        // A new proxy starts with no upstream: the switch runs again to set it.
        triggers: proxy ? pulumi.all([proxy.containerId]).apply(([id]) => [...ident, id]) : ident,
        proxy: proxy ? { slotPorts: [svc.port, svc.port + 1], admin, drainSeconds: s.drainSeconds } : undefined,
    }, { dependsOn: previous });
    const smoke = new SmokeTest(named("smoke", svc.name), {
        // The public address: the proxy's port for the service, or the service's own.
        baseUrl: url(proxied ? svc.publicPort : svc.port), healthPath: svc.healthPath,
        // Critical endpoints are asked of the new container itself (in maintenance the proxy answers
        // 503 to all but the health path); health and version go through the public address.
        criticalUrl: url(app.port),
        expectVersion: release.version, critical: svc.critical, range: release.schemaRange,
        db, schemaTable: s.schemaTable, container: app.containerName, dockerHost: s.dockerHost,
        retries: s.smokeRetries, timeoutSeconds: s.smokeTimeoutSeconds,
        triggers: pulumi.all([app.containerId]).apply(([id]) => [...ident, id]),
    }, { dependsOn: [app] });
    previous = [smoke];
    return { svc, app, smoke };
});
const first = running.find(r => r.svc.migrations)!;

if (maintenanceArgs && !s.maintenance) new Maintenance("maintenance", maintenanceArgs, { dependsOn: previous });

const offsite = s.offsiteEnabled
    ? new OffsiteCopy("offsite", { dumpPath: backup.path, sha256: backup.sha256 }, { dependsOn: [backup] })
    : undefined;

const serviceRecords: pulumi.Output<Record<string, ServiceRecord>> = pulumi.all(running.map(r => pulumi.all([r.app.containerName, r.app.startedAt])))
    .apply(rows => Object.fromEntries(running.map((r, i) => [r.svc.name, {
        version: release.version, imageRef: r.svc.imageRef, container: rows[i][0], startedAt: rows[i][1],
        ...(proxied ? { publicPort: r.svc.publicPort } : { port: r.svc.port }),
    }])));

const record: pulumi.Output<ReleaseRecord> = pulumi.all([backup.path, backup.sha256, backup.bytes, backup.taken, first.app.startedAt, first.smoke.liveSchema, first.smoke.dirty, serviceRecords])
    .apply(([path, sha256, bytes, taken, startedAt, liveSchema, dirty, services]) => ({
        version: release.version,
        gitSha: release.gitSha,
        gitTag: release.version,
        image: release.image,
        imageRef: primary.imageRef,
        imageDigest: release.imageDigest,
        schemaVersion: release.schemaVersion,
        schemaRange: showRange(release.schemaRange),
        liveSchema: { version: liveSchema, dirty },
        notes: release.notes,
        backup: { path, sha256, bytes, kind: taken },
        ...(restoring ? { restoredDump: { path: s.restoreDump, sha256: s.restoreDumpSha256 } } : {}),
        ...(s.bundle ? { services } : {}),
        deployedAt: startedAt,
        kind: s.kind,
        replacesVersion: s.replacesVersion,
        dbMode: s.dbMode,
        ...(s.provenanceOverride ? { provenanceOverride: s.provenanceOverride } : {}),
    }));

export const version = release.version;
export const gitSha = release.gitSha;
export const image = primary.imageRef;
export const imageDigest = release.imageDigest;
export const schemaVersion = release.schemaVersion;
export const schema = pulumi.all([first.smoke.liveSchema, first.smoke.dirty]).apply(([live, dirty]) => ({
    target: release.schemaVersion, range: showRange(release.schemaRange), live, dirty,
}));
export const services = serviceRecords;
export const maintenance = proxied ? { on: s.maintenance, message: s.maintenance ? s.maintenanceMessage : "" } : "no proxy";
export const kind = s.kind;
export const replacesVersion = s.replacesVersion;
export const releaseRecord = record;
export const migrated = pulumi.all([migrations.fromVersion, migrations.toVersion]).apply(([from, to]) => ({ from, to }));
export const offsiteCopy = offsite ? pulumi.interpolate`s3://${offsite.bucket}/${offsite.key}` : "off";
