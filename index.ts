// The deploy program: validated release config → images pulled by digest → (maintenance on) →
// verified backup → migrations, once → each service of the bundle switched in order, each
// smoke-tested before the next → (maintenance off) → release bundle → release record (the stack outputs).
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { AppService } from "./components/appService";
import { ConfigError, databaseUrl, parseDeployConfig, PROJECT, releaseIdentity, serviceIdentity, WEBHOOK_IN_PLAIN_TEXT } from "./components/config";
import { DatabaseBackup } from "./components/databaseBackup";
import { DatabaseRestore } from "./components/databaseRestore";
import { batchesOf } from "./components/hosts";
import { Maintenance } from "./components/maintenance";
import { Migrations } from "./components/migrations";
import { OffsiteCopy } from "./components/offsiteCopy";
import { Proxy } from "./components/proxy";
import { HostRecord, ReleaseRecord, ServiceRecord } from "./components/record";
import { configSecretKeys, redactedConfig, ReleaseArtifact } from "./components/releaseArtifact";
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
            project.getObject<unknown>("hosts"),
        );
    } catch (err) {
        // A clean error: one line per bad key, no stack trace, before any resource changes.
        if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
        throw err;
    }
})();
// The webhook's URL carries the ops channel's token: a value stored in plain text is refused
// (the language host names the secret keys, as upstream's does; deployctl refuses it too).
if ((pulumi.runtime.allConfig()[`${PROJECT}:webhookUrl`] ?? "") !== "" && !configSecretKeys().includes(`${PROJECT}:webhookUrl`)) {
    throw new pulumi.RunError(WEBHOOK_IN_PLAIN_TEXT);
}
const password = project.getSecret("dbPassword");
if (password === undefined) {
    throw new pulumi.RunError(`${PROJECT}:dbPassword is not set: run pulumi config set --secret dbPassword <password>`);
}
const db = { host: s.dbHost, port: s.dbPort, database: s.dbName, user: s.dbUser, password };
const identity = releaseIdentity(release);
const primary = s.services.find(x => x.migrations)!;
// A single-service, single-host stack keeps its resource names (image, app, smoke); a bundle's
// carry the service's name, and a stack that lists hosts the host's.
const named = (base: string, service: string, host: string) =>
    [base, ...(s.bundle ? [service] : []), ...(s.hostsListed ? [host] : [])].join("-");
const perHost = (base: string, host: string) => s.hostsListed ? `${base}-${host}` : base;
// When hosts are first listed, the first host's resources are the ones the stack had (same
// engine, same containers): aliased to their names without the host, so nothing is replaced.
const legacy = (h: { name: string }, base: string, service = ""): pulumi.CustomResourceOptions =>
    s.hostsListed && h === s.hosts[0] ? { aliases: [{ name: s.bundle && service ? `${base}-${service}` : base }] } : {};
const url = (address: string, port: pulumi.Input<number>) => pulumi.interpolate`http://${address.includes(":") ? `[${address}]` : address}:${port}`;
const proxied = s.proxyPort > 0;
const admin = `127.0.0.1:${s.proxyAdminPort}`;
const proxyName = `${s.appName}-proxy`;

// On every host, before anything changes: every image of the release, pulled by digest (a host that
// cannot pull fails the update here), and, with a proxy, its own proxy, through which its services
// switch with no dropped request. Maintenance goes on before the backup (no write is accepted after
// it, so the backup holds every accepted write) and off after the last smoke test.
const hostParts = s.hosts.map(h => {
    const provider = new docker.Provider(s.hostsListed ? `docker-${h.name}` : "docker-host", h.endpoint ? { host: h.endpoint } : {}, legacy(h, "docker-host"));
    const images = s.services.map(svc => new ReleaseImage(named("image", svc.name, h.name), { imageRef: svc.imageRef, provider }, legacy(h, "image", svc.name)));
    const proxy = proxied
        ? new Proxy(perHost("proxy", h.name), {
            adminPort: s.proxyAdminPort, name: proxyName, image: s.proxyImage, drainSeconds: s.drainSeconds, provider,
            services: s.services.map(svc => ({ slot: svc.container, publicPort: svc.publicPort, healthPath: svc.healthPath })),
        }, legacy(h, "proxy"))
        : undefined;
    // On a listed host the admin API is reached from inside the proxy's container (docker exec).
    const via = s.hostsListed ? { container: proxyName, dockerHost: h.endpoint } : undefined;
    const maintenanceArgs = proxy ? { on: s.maintenance, message: s.maintenanceMessage, admin, proxyContainerId: proxy.containerId, via } : undefined;
    const maintenanceOn = maintenanceArgs && s.maintenance ? new Maintenance(perHost("maintenance", h.name), maintenanceArgs, { dependsOn: [proxy!], ...legacy(h, "maintenance") }) : undefined;
    return { h, images, proxy, via, maintenanceArgs, maintenanceOn };
});

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
}, { dependsOn: hostParts.flatMap(x => [...x.images, ...(x.maintenanceOn ? [x.maintenanceOn] : [])]) });
const databaseUrlSecret = password.apply(p => databaseUrl(db, p));

const restore = s.dbMode === "restore"
    ? new DatabaseRestore("restore", { db, dump: s.restoreDump, sha256: s.restoreDumpSha256 }, { dependsOn: [backup] })
    : undefined;

// Migrations run once per release, from the image of the service that owns them, on the first host.
const migrations = new Migrations("migrations", {
    imageRef: primary.imageRef, migrateCommand: s.migrateCommand, targetVersion: release.schemaVersion,
    range: release.schemaRange, migrationsDir: s.migrationsDir, requireDown: s.requireDownMigrations,
    stack: pulumi.getStack(),
    dbMode: s.dbMode, downImage: s.downImage, dockerHost: s.hosts[0].endpoint,
    databaseUrl: databaseUrlSecret,
    triggers: [...identity, s.dbMode, s.downImage],
    ...(appOnly ? { backupTaken: backup.taken, backupSchema: backup.schemaRead } : {}),
}, { dependsOn: restore ? [backup, restore] : [backup] });

// The hosts switch in batches, each batch only after every host of the one before passed its smoke
// tests; on each host the services switch in their declared order, each one only after the one
// before it passed its smoke test.
let batchGate: pulumi.Resource[] = [migrations];
const switched = batchesOf(hostParts, s.batchSize).flatMap(batch => {
    const done = batch.map(({ h, proxy, via }) => {
        let previous: pulumi.Resource[] = proxy ? [...batchGate, proxy] : batchGate;
        const running = s.services.map(svc => {
            const ident = serviceIdentity(release, svc);
            const app = new AppService(named("app", svc.name, h.name), {
                imageRef: svc.imageRef, name: svc.container, port: svc.port, appHost: h.address,
                healthPath: svc.healthPath, healthTimeoutSeconds: s.smokeRetries * s.smokeTimeoutSeconds,
                labels: { version: release.version, gitSha: release.gitSha, digest: svc.imageRef.slice(svc.imageRef.indexOf("@") + 1) },
                env: svc.migrations && s.appDatabaseEnv ? { ...svc.env, [s.appDatabaseEnv]: pulumi.secret(databaseUrlSecret) } : svc.env,
                dockerHost: h.endpoint,
                // A new proxy starts with no upstream: the switch runs again to set it.
                triggers: proxy ? pulumi.all([proxy.containerId]).apply(([id]) => [...ident, id]) : ident,
                proxy: proxy ? { slotPorts: [svc.port, svc.port + 1], admin, drainSeconds: s.drainSeconds, container: via?.container } : undefined,
            }, { dependsOn: previous, ...legacy(h, "app", svc.name) });
            const smoke = new SmokeTest(named("smoke", svc.name, h.name), {
                // The public address: the proxy's port for the service, or the service's own.
                baseUrl: url(h.address, proxied ? svc.publicPort : svc.port), healthPath: svc.healthPath,
                // Critical endpoints are asked of the new container itself (in maintenance the proxy answers
                // 503 to all but the health path); health and version go through the public address.
                criticalUrl: url(h.address, app.port),
                expectVersion: release.version, critical: svc.critical, range: release.schemaRange,
                db, schemaTable: s.schemaTable, container: app.containerName, dockerHost: h.endpoint,
                retries: s.smokeRetries, timeoutSeconds: s.smokeTimeoutSeconds,
                triggers: pulumi.all([app.containerId]).apply(([id]) => [...ident, id]),
            }, { dependsOn: [app], ...legacy(h, "smoke", svc.name) });
            previous = [smoke];
            return { svc, app, smoke };
        });
        return { h, running, last: previous };
    });
    batchGate = done.flatMap(d => d.last);
    return done;
});
const first = switched[0].running.find(r => r.svc.migrations)!;

for (const x of hostParts) {
    if (x.maintenanceArgs && !s.maintenance) new Maintenance(perHost("maintenance", x.h.name), x.maintenanceArgs, { dependsOn: batchGate, ...legacy(x.h, "maintenance") });
}


type Running = (typeof switched)[number]["running"];
const recordsOf = (running: Running): pulumi.Output<Record<string, ServiceRecord>> =>
    pulumi.all(running.map(r => pulumi.all([r.app.containerName, r.app.startedAt])))
        .apply(rows => Object.fromEntries(running.map((r, i) => [r.svc.name, {
            version: release.version, imageRef: r.svc.imageRef, container: rows[i][0], startedAt: rows[i][1],
            ...(proxied ? { publicPort: r.svc.publicPort } : { port: r.svc.port }),
        }])));
const serviceRecords = recordsOf(switched[0].running);
// Per host, in switch order: its endpoint, address and what each service runs.
const hostRecords: pulumi.Output<Record<string, HostRecord>> = pulumi.all(switched.map(d => recordsOf(d.running)))
    .apply(rows => Object.fromEntries(switched.map((d, i) => [d.h.name, { endpoint: d.h.endpoint || "local", address: d.h.address, services: rows[i] }])));

const core: pulumi.Output<ReleaseRecord> = pulumi.all([backup.path, backup.sha256, backup.bytes, backup.taken, first.app.startedAt, first.smoke.liveSchema, first.smoke.dirty, pulumi.all([serviceRecords, hostRecords])])
    .apply(([path, sha256, bytes, taken, startedAt, liveSchema, dirty, [services, byHost]]) => ({
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
        ...(s.hostsListed ? { hosts: byHost, batchSize: s.batchSize } : {}),
        deployedAt: startedAt,
        kind: s.kind,
        replacesVersion: s.replacesVersion,
        dbMode: s.dbMode,
        ...(s.provenanceOverride ? { provenanceOverride: s.provenanceOverride } : {}),
    }));

// The release bundle: config without secrets, the record, each service's image and the migration
// files the image carries; written after the last smoke test, its hash then joins the record.
const artifact = new ReleaseArtifact("artifact", {
    dir: s.backupDir, version: release.version, record: core,
    config: redactedConfig(pulumi.runtime.allConfig(), configSecretKeys()),
    images: Object.fromEntries(s.services.map(svc => [svc.name, svc.imageRef])),
    imageRef: primary.imageRef, migrateCommand: s.migrateCommand, migrationsDir: s.migrationsDir, dockerHost: s.hosts[0].endpoint,
}, { dependsOn: batchGate });
const record: pulumi.Output<ReleaseRecord> = pulumi.all([core, artifact.path, artifact.sha256, artifact.bytes, artifact.error])
    .apply(([r, path, sha256, bytes, error]) => ({ ...r, artifact: { path, sha256, bytes, ...(error ? { error } : {}) } }));

const offsite = s.offsiteEnabled
    ? new OffsiteCopy("offsite", { dumpPath: backup.path, sha256: backup.sha256, artifact: { path: artifact.path, sha256: artifact.sha256 } }, { dependsOn: [backup] })
    : undefined;

export const version = release.version;
export const gitSha = release.gitSha;
export const image = primary.imageRef;
export const imageDigest = release.imageDigest;
export const schemaVersion = release.schemaVersion;
export const schema = pulumi.all([first.smoke.liveSchema, first.smoke.dirty]).apply(([live, dirty]) => ({
    target: release.schemaVersion, range: showRange(release.schemaRange), live, dirty,
}));
export const services = serviceRecords;
export const hosts = s.hostsListed ? hostRecords : undefined;
export const maintenance = proxied ? { on: s.maintenance, message: s.maintenance ? s.maintenanceMessage : "" } : "no proxy";
export const kind = s.kind;
export const replacesVersion = s.replacesVersion;
export const releaseRecord = record;
export const migrated = pulumi.all([migrations.fromVersion, migrations.toVersion]).apply(([from, to]) => ({ from, to }));
export const offsiteCopy = offsite ? pulumi.interpolate`s3://${offsite.bucket}/${offsite.key}` : "off";
