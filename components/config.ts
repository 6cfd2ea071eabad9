// Release and deployment config: every key is read and validated once, up
// front, so that bad input fails `pulumi preview` before anything changes.
import * as semver from "semver";
import { SchemaRange, rangeOf } from "./schema";
import { batchSizeProblem, HostSpec, parseHosts } from "./hosts";
import { CriticalEndpoint, parseCritical, parseEnv, parseImages, parseServices, ServiceSpec } from "./services";

import { DIGEST_RE, ENV_NAME_RE, HOST_RE, HTTP_PATH_RE, isImageRef, REPO_RE, show } from "./rules";

export { CriticalEndpoint, ServiceSpec } from "./services";
export { HostSpec } from "./hosts";
export { show } from "./rules";

/** Where raw config strings come from: `pulumi.Config` in a program, a plain map in tests. */
export interface ConfigSource {
    /** The raw value of `namespace:key`, or undefined when unset. */
    get(namespace: string, key: string): string | undefined;
}

/** The release identity: what is deployed, pinned by digest. */
export interface Release {
    readonly version: string;
    readonly gitSha: string;
    readonly image: string;
    readonly imageDigest: string;
    readonly schemaVersion: number;
    /** The schema versions this release's code runs on (release:schemaMin..schemaMax); open ends are unbounded. */
    readonly schemaRange: SchemaRange;
    readonly notes: string;
    /** The images of the bundle's other services (release:images), service → repo@sha256:... */
    readonly images: Readonly<Record<string, string>>;
}

export type DbMode = "keep" | "down" | "restore";
export type DeployKind = "deploy" | "rollback";

/** Everything else a deploy needs, with defaults applied. */
export interface DeploySettings {
    readonly dbHost: string;
    readonly dbPort: number;
    readonly dbName: string;
    readonly dbUser: string;
    readonly backupDir: string;
    readonly backupRetain: number;
    readonly backupVerify: "restore" | "list";
    readonly dockerHost: string;
    readonly appName: string;
    readonly appPort: number;
    readonly appHost: string;
    readonly appEnv: Readonly<Record<string, string>>;
    readonly appDatabaseEnv: string;
    readonly criticalEndpoints: readonly CriticalEndpoint[];
    readonly healthPath: string;
    readonly smokeRetries: number;
    readonly smokeTimeoutSeconds: number;
    readonly migrateCommand: string;
    readonly migrationsDir: string;
    readonly schemaTable: string;
    readonly requireDownMigrations: boolean;
    readonly atomic: boolean;
    readonly offsiteEnabled: boolean;
    readonly kind: DeployKind;
    readonly replacesVersion: string;
    readonly dbMode: DbMode;
    readonly downImage: string;
    /** Public port of the reverse proxy; 0 runs the service on appPort with no proxy. */
    readonly proxyPort: number;
    /** Loopback port of the proxy's admin API. */
    readonly proxyAdminPort: number;
    /** The proxy's image, repo@sha256:... (required with a proxy). */
    readonly proxyImage: string;
    /** Seconds the old container has to finish in-flight requests after the switch. */
    readonly drainSeconds: number;
    readonly restoreDump: string;
    readonly restoreDumpSha256: string;
    /** Whether the proxy answers 503 with maintenanceMessage (the health path stays reachable). */
    readonly maintenance: boolean;
    readonly maintenanceMessage: string;
    /** Why the provenance pre-flight was overridden for this update; empty when it was not. */
    readonly provenanceOverride: string;
    /** The release's services, in the order they switch; one for a single-service stack. */
    readonly services: readonly ServiceSpec[];
    /** Whether api-server:services lists them (a bundle), rather than the single-service settings. */
    readonly bundle: boolean;
    /** The hosts the release runs on, in the order they switch; one (dockerHost, appHost) when none are listed. */
    readonly hosts: readonly HostSpec[];
    /** Whether api-server:hosts lists them, rather than dockerHost and appHost. */
    readonly hostsListed: boolean;
    /** Hosts per batch: a number, or a percentage like 50%. */
    readonly batchSize: string;
}

export interface DeployConfig {
    readonly release: Release;
    readonly settings: DeploySettings;
}

/** Thrown when config is invalid; its message has one line per bad key. */
export class ConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(problems.join("\n"));
        this.name = "ConfigError";
    }
}

/** The project namespace (the `name:` in Pulumi.yaml). */
export const PROJECT = "api-server";
/** The namespace of the release identity keys. */
export const RELEASE_NS = "release";
/** The release identity keys a rollback copies from history, in order. */
export const RELEASE_KEYS = ["version", "gitSha", "image", "imageDigest", "schemaVersion", "schemaMin", "schemaMax", "notes", "images"] as const;
/** The release keys that may be left unset. */
export const OPTIONAL_RELEASE_KEYS: readonly string[] = ["schemaMin", "schemaMax", "notes", "images"];

/** Defaults, identical to the `default:` values declared in Pulumi.yaml. */
export const DEFAULTS: Readonly<Record<string, string>> = {
    dbHost: "127.0.0.1",
    dbPort: "5432",
    dbName: "app",
    dbUser: "app",
    backupDir: "/var/backups/api-server",
    backupRetain: "0",
    backupVerify: "restore",
    backupAhead: "true",
    dockerHost: "",
    appName: "api-server",
    appPort: "8080",
    appHost: "127.0.0.1",
    appDatabaseEnv: "",
    healthPath: "/health",
    smokeRetries: "30",
    smokeTimeoutSeconds: "5",
    migrateCommand: "/migrate",
    migrationsDir: "/migrations",
    schemaTable: "schema_migrations",
    requireDownMigrations: "false",
    atomic: "false",
    offsiteEnabled: "false",
    kind: "deploy",
    replacesVersion: "",
    dbMode: "keep",
    downImage: "",
    proxyPort: "0",
    proxyAdminPort: "2019",
    proxyImage: "",
    drainSeconds: "10",
    restoreDump: "",
    restoreDumpSha256: "",
    atomicRecoveryOf: "",
    maintenance: "off",
    maintenanceMessage: "Down for maintenance; back shortly.",
    provenance: "",
    gitRepo: "",
    trunkRef: "origin/main",
    provenanceOverride: "",
    batchSize: "1",
    webhookUrl: "",
};

/** The refusal of a webhook URL stored in plain text (by the program and by deployctl). */
export const WEBHOOK_IN_PLAIN_TEXT = `${PROJECT}:webhookUrl is stored in plain text, but it carries the webhook's token: set it with pulumi config set --secret webhookUrl <url>`;

/** Settings the program never reads (deployctl does): reading a secret with Config.get would warn on every update. */
const UNREAD_SETTINGS = ["webhookUrl"];

const SHA_RE = /^[0-9a-f]{40}$/;
const HEX64_RE = /^[0-9a-f]{64}$/;
const PG_IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const CONTAINER_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const ABS_PATH_RE = /^\/[A-Za-z0-9._/@+-]*$/;
const DOCKER_HOST_RE = /^(?:unix|tcp|ssh):\/\/[A-Za-z0-9@._:/-]+$/;

/** A SemVer release version with a leading v, e.g. v2.1.0; returns a problem or undefined. */
export function checkVersion(key: string, v: string): string | undefined {
    if (!/^v\d/.test(v) || semver.valid(v.slice(1)) === null || semver.clean(v.slice(1)) !== v.slice(1)) {
        return `${key} ${show(v)} is invalid: must be a SemVer version with a leading v, like v2.1.0`;
    }
    return undefined;
}

/** A full image reference repo@sha256:...; returns a problem or undefined. */
export function checkImageRef(key: string, v: string): string | undefined {
    if (!isImageRef(v)) {
        return `${key} ${show(v)} is invalid: must be repository@sha256:<64 lower-case hex>`;
    }
    return undefined;
}

/** Validates the repository part of an image: no tag, no digest. */
export function checkRepository(key: string, v: string): string | undefined {
    if (v.includes("@")) {
        return `${key} ${show(v)} is invalid: must be a repository only, without a digest (put the digest in release:imageDigest)`;
    }
    const last = v.split("/").pop() ?? "";
    if (last.includes(":")) {
        return `${key} ${show(v)} is invalid: must be a repository only, without a tag (deploys are pinned by release:imageDigest, never by a tag)`;
    }
    if (!REPO_RE.test(v)) {
        return `${key} ${show(v)} is invalid: must be a Docker repository like registry.example.com/team/api (lower case, no spaces)`;
    }
    return undefined;
}

/** Validates a digest: exactly sha256: followed by 64 lower-case hex characters. */
export function checkDigest(key: string, v: string): string | undefined {
    if (!DIGEST_RE.test(v)) {
        return `${key} ${show(v)} is invalid: must be sha256: followed by 64 lower-case hex characters`;
    }
    return undefined;
}

/** Validates a full git commit SHA: 40 lower-case hex characters. */
export function checkGitSha(key: string, v: string): string | undefined {
    if (!SHA_RE.test(v)) {
        return `${key} ${show(v)} is invalid: must be the full 40-character lower-case hex commit SHA`;
    }
    return undefined;
}

/** Validates a schema (migration) version: a non-negative integer. */
export function checkSchemaVersion(key: string, v: string): string | undefined {
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
        return `${key} ${show(v)} is invalid: must be a non-negative integer migration version`;
    }
    return undefined;
}

type Rule = (key: string, v: string) => string | undefined;

function intRule(min: number, max: number): Rule {
    return (key, v) => (/^-?\d+$/.test(v) && Number(v) >= min && Number(v) <= max)
        ? undefined
        : `${key} ${show(v)} is invalid: must be an integer from ${min} to ${max}`;
}

function enumRule(...allowed: string[]): Rule {
    return (key, v) => allowed.includes(v) ? undefined : `${key} ${show(v)} is invalid: must be one of ${allowed.join(", ")}`;
}

function regexRule(re: RegExp, what: string, allowEmpty = false): Rule {
    return (key, v) => ((allowEmpty && v === "") || re.test(v)) ? undefined : `${key} ${show(v)} is invalid: must be ${what}`;
}

const SETTING_RULES: Record<string, Rule> = {
    dbHost: regexRule(HOST_RE, "a host name or IP address"),
    dbPort: intRule(1, 65535),
    dbName: regexRule(PG_IDENT_RE, "a PostgreSQL identifier (letters, digits, _; up to 63)"),
    dbUser: regexRule(PG_IDENT_RE, "a PostgreSQL identifier (letters, digits, _; up to 63)"),
    backupDir: regexRule(ABS_PATH_RE, "an absolute path of letters, digits and ._/@+-"),
    backupRetain: intRule(0, 100000),
    backupVerify: enumRule("restore", "list"),
    dockerHost: regexRule(DOCKER_HOST_RE, "empty, or a unix://, tcp:// or ssh:// address", true),
    appName: regexRule(CONTAINER_RE, "a container name (letters, digits, _.-)"),
    appPort: intRule(1, 65535),
    appHost: regexRule(HOST_RE, "the host name or IP address where the app answers"),
    appDatabaseEnv: regexRule(ENV_NAME_RE, "empty, or the name of the environment variable that hands the app the database URL", true),
    healthPath: regexRule(HTTP_PATH_RE, "an absolute URL path like /health"),
    smokeRetries: intRule(1, 600),
    smokeTimeoutSeconds: intRule(1, 120),
    migrateCommand: regexRule(ABS_PATH_RE, "an absolute path inside the image, like /migrate"),
    migrationsDir: regexRule(ABS_PATH_RE, "an absolute path inside the image, like /migrations"),
    schemaTable: regexRule(PG_IDENT_RE, "a PostgreSQL identifier (the migration tool's version table)"),
    requireDownMigrations: enumRule("true", "false"),
    atomic: enumRule("true", "false"),
    backupAhead: enumRule("true", "false"),
    offsiteEnabled: enumRule("true", "false"),
    kind: enumRule("deploy", "rollback"),
    replacesVersion: (key, v) => v === "" ? undefined : checkVersion(key, v),
    dbMode: enumRule("keep", "down", "restore"),
    downImage: (key, v) => v === "" ? undefined : checkImageRef(key, v),
    proxyPort: intRule(0, 65535),
    proxyAdminPort: intRule(1, 65535),
    proxyImage: (key, v) => v === "" ? undefined : checkImageRef(key, v),
    drainSeconds: intRule(0, 3600),
    restoreDump: regexRule(ABS_PATH_RE, "an absolute path to a .dump file", true),
    restoreDumpSha256: regexRule(HEX64_RE, "64 lower-case hex characters", true),
    atomicRecoveryOf: (key, v) => v === "" ? undefined : checkVersion(key, v),
    maintenance: enumRule("on", "off"),
    maintenanceMessage: (key, v) => v.length >= 1 && v.length <= 500 && ![...v].some(c => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127)
        ? undefined : `${key} ${show(v)} is invalid: must be 1 to 500 characters on one line`,
    provenance: (key, v) => {
        const items = v === "" ? [] : v.split(",");
        return items.every(i => i === "labels" || i === "git") && new Set(items).size === items.length
            ? undefined : `${key} ${show(v)} is invalid: must be empty, labels, git or labels,git`;
    },
    gitRepo: regexRule(ABS_PATH_RE, "empty, or the absolute path of the release's git repository", true),
    trunkRef: (key, v) => /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/.test(v) && !v.includes("..")
        ? undefined : `${key} ${show(v)} is invalid: must be a git ref like origin/main`,
    provenanceOverride: (key, v) => v.length <= 500 && ![...v].some(c => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127)
        ? undefined : `${key} ${show(v)} is invalid: must be up to 500 characters on one line`,
    batchSize: batchSizeProblem,
};

const RELEASE_RULES: Record<string, Rule> = {
    version: checkVersion,
    gitSha: checkGitSha,
    image: checkRepository,
    imageDigest: checkDigest,
    schemaVersion: checkSchemaVersion,
    schemaMin: checkSchemaVersion,
    schemaMax: checkSchemaVersion,
};

/** Validates one `api-server:` setting's raw value; `label` names it in the message (a deployctl flag). */
export function checkSettingValue(key: string, value: string, label = `${PROJECT}:${key}`): string | undefined {
    const rule = SETTING_RULES[key];
    return rule ? rule(label, value) : undefined;
}

/** Validates one `release:` key's raw value; used by deployctl for its flags too. */
export function checkReleaseValue(key: string, value: string): string | undefined {
    const rule = RELEASE_RULES[key];
    return rule ? rule(`${RELEASE_NS}:${key}`, value) : undefined;
}

/**
 * Reads and validates the whole deploy config. Throws a ConfigError naming
 * every bad key, its value and the rule it breaks.
 * `appEnv` is the parsed `api-server:appEnv` object (or undefined).
 */
export function parseDeployConfig(src: ConfigSource, appEnv?: unknown, criticalEndpoints?: unknown, services?: unknown, hostList?: unknown): DeployConfig {
    const problems: string[] = [];
    const rel: Record<string, string> = {};
    for (const key of RELEASE_KEYS) {
        const raw = src.get(RELEASE_NS, key);
        if (key === "notes" || key === "images") {
            rel[key] = raw ?? "";
            continue;
        }
        if (raw === undefined || raw === "") {
            if (!OPTIONAL_RELEASE_KEYS.includes(key)) {
                problems.push(`${RELEASE_NS}:${key} is not set: every release needs version, gitSha, image, imageDigest and schemaVersion`);
            }
            continue;
        }
        const p = RELEASE_RULES[key](`${RELEASE_NS}:${key}`, raw);
        if (p) problems.push(p);
        rel[key] = raw;
    }

    const s: Record<string, string> = {};
    for (const key of Object.keys(DEFAULTS).filter(k => !UNREAD_SETTINGS.includes(k))) {
        const raw = src.get(PROJECT, key) ?? DEFAULTS[key];
        const p = SETTING_RULES[key](`${PROJECT}:${key}`, raw);
        if (p) problems.push(p);
        s[key] = raw;
    }

    // appDriver: provider (docker.Container, which upstream replaces delete-before-create) was removed.
    const driver = src.get(PROJECT, "appDriver");
    if (driver !== undefined && driver !== "cli") {
        problems.push(`${PROJECT}:appDriver ${JSON.stringify(driver)} is no longer supported: the service always switches through the docker CLI; remove it (pulumi config rm appDriver)`);
    }

    const env = parseEnv(appEnv, `${PROJECT}:appEnv`, problems);
    const endpoints = parseCriticalEndpoints(criticalEndpoints, problems);
    problems.push(...rangeProblems(rel));

    // Rules that tie keys together.
    if (s.dbMode === "down" && s.downImage === "") {
        problems.push(`${PROJECT}:downImage is not set: dbMode=down needs the image rolled back from (repo@sha256:...), whose down migrations run`);
    }
    if (s.dbMode === "restore" && (s.restoreDump === "" || s.restoreDumpSha256 === "")) {
        problems.push(`${PROJECT}:restoreDump and restoreDumpSha256 must both be set when dbMode=restore`);
    }
    if (s.dbMode !== "keep" && s.kind !== "rollback") {
        problems.push(`${PROJECT}:dbMode ${show(s.dbMode)} is only for a rollback (kind=rollback); set dbMode back to keep for a deploy`);
    }
    const primaryOk = ["image", "imageDigest"].every(k => rel[k] !== undefined && RELEASE_RULES[k](k, rel[k]) === undefined);
    const bundle = parseServices(services, parseImages(rel.images, problems), {
        appName: s.appName, appPort: Number(s.appPort), healthPath: s.healthPath,
        proxyPort: Number(s.proxyPort) || 0, proxyAdminPort: Number(s.proxyAdminPort) || 0,
        primaryImage: primaryOk ? `${rel.image}@${rel.imageDigest}` : undefined, appEnv: env, critical: endpoints,
    }, problems);
    // A bundle's ports are checked by services.ts (portProblems); a single service's here.
    if (services === undefined || services === null) problems.push(...proxyProblems(s));
    else problems.push(...proxyImageProblem(s));
    if (s.maintenance === "on" && Number(s.proxyPort) === 0) {
        problems.push(`${PROJECT}:maintenance "on" needs the proxy: the maintenance page is the proxy's; set proxyPort and proxyImage first`);
    }
    const hosts = parseHosts(hostList, { name: "local", endpoint: s.dockerHost, address: s.appHost }, problems);
    const hostsListed = hostList !== undefined && hostList !== null;
    if (hostsListed && s.dockerHost !== "") {
        problems.push(`${PROJECT}:dockerHost ${show(s.dockerHost)} must be empty when ${PROJECT}:hosts lists the hosts: each host has its own endpoint`);
    }
    if (problems.length > 0) throw new ConfigError(problems);

    return {
        release: {
            version: rel.version,
            gitSha: rel.gitSha,
            image: rel.image,
            imageDigest: rel.imageDigest,
            schemaVersion: Number(rel.schemaVersion),
            schemaRange: rangeOf(rel.schemaMin, rel.schemaMax),
            notes: rel.notes,
            images: Object.fromEntries(bundle.filter(b => !b.migrations).map(b => [b.name, b.imageRef])),
        },
        settings: {
            dbHost: s.dbHost,
            dbPort: Number(s.dbPort),
            dbName: s.dbName,
            dbUser: s.dbUser,
            backupDir: s.backupDir,
            backupRetain: Number(s.backupRetain),
            backupVerify: s.backupVerify as "restore" | "list",
            dockerHost: s.dockerHost,
            appName: s.appName,
            appPort: Number(s.appPort),
            appHost: s.appHost,
            appEnv: env,
            appDatabaseEnv: s.appDatabaseEnv,
            criticalEndpoints: endpoints,
            healthPath: s.healthPath,
            smokeRetries: Number(s.smokeRetries),
            smokeTimeoutSeconds: Number(s.smokeTimeoutSeconds),
            migrateCommand: s.migrateCommand,
            migrationsDir: s.migrationsDir,
            schemaTable: s.schemaTable,
            requireDownMigrations: s.requireDownMigrations === "true",
            atomic: s.atomic === "true",
            offsiteEnabled: s.offsiteEnabled === "true",
            kind: s.kind as DeployKind,
            replacesVersion: s.replacesVersion,
            dbMode: s.dbMode as DbMode,
            downImage: s.downImage,
            proxyPort: Number(s.proxyPort),
            proxyAdminPort: Number(s.proxyAdminPort),
            proxyImage: s.proxyImage,
            drainSeconds: Number(s.drainSeconds),
            restoreDump: s.restoreDump,
            restoreDumpSha256: s.restoreDumpSha256,
            maintenance: s.maintenance === "on",
            maintenanceMessage: s.maintenanceMessage,
            provenanceOverride: s.provenanceOverride,
            services: bundle,
            bundle: services !== undefined && services !== null,
            hosts,
            hostsListed,
            batchSize: s.batchSize,
        },
    };
}

/**
 * With a proxy (proxyPort > 0): an image is required, and the public port, the
 * admin port and the service's two slot ports (appPort, appPort + 1) differ.
 */
export function proxyProblems(s: Record<string, string>): string[] {
    const port = Number(s.proxyPort);
    if (!Number.isInteger(port) || port === 0) return [];
    const problems = proxyImageProblem(s);
    const app = Number(s.appPort);
    const admin = Number(s.proxyAdminPort);
    const slots = [app, app + 1];
    if (slots.includes(port)) problems.push(`${PROJECT}:proxyPort ${port} collides with a slot port of the service (appPort ${app} and ${app + 1}): choose another`);
    if (admin === port) problems.push(`${PROJECT}:proxyAdminPort ${admin} collides with proxyPort: choose another`);
    else if (slots.includes(admin)) problems.push(`${PROJECT}:proxyAdminPort ${admin} collides with a slot port of the service (appPort ${app} and ${app + 1}): choose another`);
    if (app + 1 > 65535) problems.push(`${PROJECT}:appPort ${app} leaves no second slot port for the proxy: choose one below 65535`);
    return problems;
}

/** With a proxy (proxyPort > 0), its image is required. */
function proxyImageProblem(s: Record<string, string>): string[] {
    const port = Number(s.proxyPort);
    return Number.isInteger(port) && port > 0 && s.proxyImage === ""
        ? [`${PROJECT}:proxyImage is not set: proxyPort ${port} needs the proxy's image (repo@sha256:...)`]
        : [];
}

/**
 * The cross-key rules of a schema range, on raw release values: min <= max,
 * and the range includes the release's own target schema.
 */
export function rangeProblems(rel: Record<string, string | undefined>): string[] {
    const valid = (k: string) => rel[k] !== undefined && rel[k] !== "" && checkSchemaVersion(k, rel[k]!) === undefined;
    const problems: string[] = [];
    if (valid("schemaMin") && valid("schemaMax") && Number(rel.schemaMin) > Number(rel.schemaMax)) {
        problems.push(`${RELEASE_NS}:schemaMin "${rel.schemaMin}" is above ${RELEASE_NS}:schemaMax "${rel.schemaMax}": a schema range needs min <= max`);
    } else if (valid("schemaVersion")) {
        const v = Number(rel.schemaVersion);
        if (valid("schemaMin") && v < Number(rel.schemaMin)) {
            problems.push(`${RELEASE_NS}:schemaMin "${rel.schemaMin}" is above ${RELEASE_NS}:schemaVersion "${rel.schemaVersion}": the range must include the release's own target schema`);
        }
        if (valid("schemaMax") && v > Number(rel.schemaMax)) {
            problems.push(`${RELEASE_NS}:schemaMax "${rel.schemaMax}" is below ${RELEASE_NS}:schemaVersion "${rel.schemaVersion}": the range must include the release's own target schema`);
        }
    }
    return problems;
}

/** Reads `api-server:criticalEndpoints`: a list of { path, status }. Problems are appended. */
export function parseCriticalEndpoints(raw: unknown, problems: string[]): CriticalEndpoint[] {
    return parseCritical(raw, `${PROJECT}:criticalEndpoints`, problems);
}

/** The pinned image reference that runs: repository@digest. */
export function imageRef(release: Pick<Release, "image" | "imageDigest">): string {
    return `${release.image}@${release.imageDigest}`;
}

/** The values that identify one service of a release: its container is replaced whenever they change. */
export function serviceIdentity(release: Release, service: { imageRef: string }): string[] {
    return [release.version, release.gitSha, service.imageRef, String(release.schemaVersion)];
}

/** The release: keys releaseIdentity is made of; a deploy that changes none of them runs no backup step. */
export const RELEASE_IDENTITY_KEYS = ["version", "gitSha", "image", "imageDigest", "schemaVersion", "images"];

/** The values that identify a release; a change of any of them re-runs backup and migrations. */
export function releaseIdentity(release: Release): string[] {
    const others = Object.keys(release.images).sort().map(k => `${k}=${release.images[k]}`);
    return [release.version, release.gitSha, imageRef(release), String(release.schemaVersion), ...others];
}

/** A postgres:// URL with every part percent-encoded. */
export function databaseUrl(db: { host: string; port: number; database: string; user: string }, password: string): string {
    const e = encodeURIComponent;
    const host = db.host.includes(":") ? `[${db.host}]` : db.host;
    return `postgres://${e(db.user)}:${e(password)}@${host}:${db.port}/${e(db.database)}?sslmode=disable`;
}
