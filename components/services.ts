// The release bundle: the services a release runs, in the order they switch.
// Pure: parsed and checked once, tested directly.
//
// `api-server:services` lists them; without it a stack has one service, made
// of the single-service settings (appName, appPort, healthPath, appEnv,
// criticalEndpoints), as before bundles existed. The service that owns the
// migrations runs release:image@release:imageDigest; every other one is
// pinned by digest in release:images, so one release is the whole bundle and
// a rollback copies it back at once.
import { DNS_LABEL_RE, ENDPOINT_PATH_RE, ENV_NAME_RE, HTTP_PATH_RE, isImageRef, show } from "./rules";

/** A smoke-test endpoint that must answer with one status. */
export interface CriticalEndpoint {
    readonly path: string;
    readonly status: number;
}

/** One service of the bundle, with defaults applied. */
export interface ServiceSpec {
    /** The service's name (a DNS label; the stack's appName for a single-service stack). */
    readonly name: string;
    /** Container name (behind the proxy, the containers are <container>-<slot port>). */
    readonly container: string;
    /** Its port; behind the proxy its two slot ports are port and port + 1. */
    readonly port: number;
    /** The proxy's public port for it; 0 without a proxy. */
    readonly publicPort: number;
    readonly healthPath: string;
    readonly critical: readonly CriticalEndpoint[];
    readonly env: Readonly<Record<string, string>>;
    /** Whether its image carries and runs the migrations (exactly one service). */
    readonly migrations: boolean;
    /** repo@sha256:... */
    readonly imageRef: string;
}

/** What the bundle's rules need from the rest of the config. */
export interface BundleContext {
    readonly appName: string;
    readonly appPort: number;
    readonly healthPath: string;
    readonly proxyPort: number;
    readonly proxyAdminPort: number;
    /** The migration-owning service's image, release:image@release:imageDigest (undefined when those are bad). */
    readonly primaryImage: string | undefined;
    readonly appEnv: Readonly<Record<string, string>>;
    readonly critical: readonly CriticalEndpoint[];
}

const SERVICE_KEYS = ["name", "port", "publicPort", "healthPath", "critical", "env", "migrations"];

/**
 * Reads an environment object (`key` names it in messages): NAME: "value"
 * pairs. Problems are appended.
 */
export function parseEnv(raw: unknown, key: string, problems: string[]): Record<string, string> {
    const env: Record<string, string> = {};
    if (raw === undefined || raw === null) return env;
    if (typeof raw !== "object" || Array.isArray(raw)) {
        problems.push(`${key} is invalid: must be an object of NAME: "value" pairs`);
        return env;
    }
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (!ENV_NAME_RE.test(k)) problems.push(`${key} key ${show(k)} is invalid: must be an environment variable name`);
        else if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") problems.push(`${key}.${k} is invalid: must be a string`);
        else env[k] = String(v);
    }
    return env;
}

/**
 * Reads a list of critical endpoints (`key` names it in messages): each
 * { path, status }, an absolute URL path and the HTTP status it must answer
 * (200 when unset). Problems are appended.
 */
export function parseCritical(raw: unknown, key: string, problems: string[]): CriticalEndpoint[] {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) {
        problems.push(`${key} is invalid: must be a list of { path: /absolute/path, status: 200 }`);
        return [];
    }
    const out: CriticalEndpoint[] = [];
    raw.forEach((e: unknown, i) => {
        const item = (e ?? {}) as Record<string, unknown>;
        const path = typeof item.path === "string" ? item.path : String(item.path ?? "");
        const statusRaw = item.status === undefined ? "200" : String(item.status);
        let ok = true;
        if (typeof e !== "object" || Array.isArray(e) || !ENDPOINT_PATH_RE.test(path)) {
            problems.push(`${key}[${i}].path ${show(path)} is invalid: must be an absolute URL path like /items`);
            ok = false;
        }
        if (!/^\d+$/.test(statusRaw) || Number(statusRaw) < 100 || Number(statusRaw) > 599) {
            problems.push(`${key}[${i}].status ${show(statusRaw)} is invalid: must be an HTTP status from 100 to 599`);
            ok = false;
        }
        if (ok) out.push({ path, status: Number(statusRaw) });
    });
    return out;
}

/**
 * Reads `release:images` (a JSON object of service name → repo@sha256:...).
 * Problems are appended.
 */
export function parseImages(raw: string | undefined, problems: string[]): Record<string, string> {
    if (raw === undefined || raw === "") return {};
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw);
    } catch {
        problems.push(`release:images ${show(raw)} is invalid: must be an object of service: repository@sha256:<64 hex>`);
        return {};
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        problems.push(`release:images ${show(raw)} is invalid: must be an object of service: repository@sha256:<64 hex>`);
        return {};
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
        if (typeof v !== "string" || !isImageRef(v)) {
            problems.push(`release:images.${k} ${show(v)} is invalid: must be repository@sha256:<64 lower-case hex> (pinned by digest, never a tag)`);
        } else {
            out[k] = v;
        }
    }
    return out;
}

function intIn(v: unknown, min: number, max: number): number | undefined {
    const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : NaN;
    return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

/**
 * The bundle: `raw` is the parsed `api-server:services` (or undefined for a
 * single-service stack), `images` the parsed release:images. Every problem
 * is appended as one line naming the key, the value and the rule.
 */
export function parseServices(raw: unknown, images: Record<string, string>, ctx: BundleContext, problems: string[]): ServiceSpec[] {
    const proxied = ctx.proxyPort > 0;
    if (raw === undefined || raw === null) {
        for (const k of Object.keys(images)) {
            problems.push(`release:images.${k} names no service: this stack has one service (set api-server:services to run a bundle)`);
        }
        const one: ServiceSpec = {
            name: ctx.appName, container: ctx.appName, port: ctx.appPort, publicPort: ctx.proxyPort,
            healthPath: ctx.healthPath, critical: ctx.critical, env: ctx.appEnv, migrations: true, imageRef: ctx.primaryImage ?? "",
        };
        return [one]; // its ports are checked by config.ts's proxyProblems, as before bundles
    }
    const key = "api-server:services";
    if (!Array.isArray(raw) || raw.length === 0) {
        problems.push(`${key} is invalid: must be a non-empty list of { name, port, publicPort, healthPath, critical, env, migrations }`);
        return [];
    }
    const out: ServiceSpec[] = [];
    const start = problems.length;
    raw.forEach((item: unknown, i) => {
        const k = `${key}[${i}]`;
        if (typeof item !== "object" || item === null || Array.isArray(item)) {
            problems.push(`${k} is invalid: must be an object { name, port, ... }`);
            return;
        }
        const o = item as Record<string, unknown>;
        for (const extra of Object.keys(o).filter(x => !SERVICE_KEYS.includes(x))) {
            problems.push(`${k}.${extra} is not a service setting: use ${SERVICE_KEYS.join(", ")}`);
        }
        const name = typeof o.name === "string" ? o.name : "";
        if (!DNS_LABEL_RE.test(name)) problems.push(`${k}.name ${show(o.name ?? "")} is invalid: must be a DNS label (lower-case letters, digits and -, up to 63)`);
        const port = intIn(o.port, 1, 65534);
        if (port === undefined) problems.push(`${k}.port ${show(o.port ?? "")} is invalid: must be an integer from 1 to 65534`);
        let publicPort = 0;
        if (proxied) {
            const fallback = i === 0 ? ctx.proxyPort : undefined;
            const p = o.publicPort === undefined ? fallback : intIn(o.publicPort, 1, 65535);
            if (p === undefined) {
                problems.push(o.publicPort === undefined
                    ? `${k}.publicPort is not set: behind the proxy every service but the first needs its own public port`
                    : `${k}.publicPort ${show(o.publicPort)} is invalid: must be an integer from 1 to 65535`);
            } else publicPort = p;
        } else if (o.publicPort !== undefined) {
            problems.push(`${k}.publicPort ${show(o.publicPort)} needs the proxy: set api-server:proxyPort, or remove publicPort`);
        }
        const healthPath = o.healthPath === undefined ? ctx.healthPath : String(o.healthPath);
        if (!HTTP_PATH_RE.test(healthPath)) problems.push(`${k}.healthPath ${show(healthPath)} is invalid: must be an absolute URL path like /health`);
        const critical = parseCritical(o.critical, `${k}.critical`, problems);
        const env = parseEnv(o.env, `${k}.env`, problems);
        if (o.migrations !== undefined && typeof o.migrations !== "boolean") {
            problems.push(`${k}.migrations ${show(o.migrations)} is invalid: must be true or false`);
        }
        const migrations = o.migrations === true;
        const imageRef = migrations ? ctx.primaryImage ?? "" : images[name] ?? "";
        if (!migrations && DNS_LABEL_RE.test(name) && images[name] === undefined) {
            problems.push(`release:images.${name} is not set: service ${name} must be pinned by digest (repository@sha256:<64 hex>)`);
        }
        if (migrations && images[name] !== undefined) {
            problems.push(`release:images.${name} is set, but ${name} owns the migrations: its image is release:image@release:imageDigest; remove release:images.${name}`);
        }
        out.push({ name, container: `${ctx.appName}-${name}`, port: port ?? 0, publicPort, healthPath, critical, env, migrations, imageRef });
    });
    const names = new Set(out.map(s => s.name));
    for (const k of Object.keys(images)) {
        if (!names.has(k)) problems.push(`release:images.${k} names no service in api-server:services`);
    }
    const seen = new Map<string, number>();
    out.forEach((s, i) => {
        if (s.name !== "" && seen.has(s.name)) problems.push(`${key}[${i}].name ${show(s.name)} is used by ${key}[${seen.get(s.name)}] too: service names must be unique`);
        else seen.set(s.name, i);
    });
    const owners = out.filter(s => s.migrations);
    if (out.length === raw.length && owners.length !== 1) {
        problems.push(`${key} has ${owners.length} services with migrations: true: exactly one service owns the migrations (it runs release:image@release:imageDigest)`);
    }
    if (problems.length === start) problems.push(...portProblems(out, ctx));
    return out;
}

/**
 * Every port the bundle takes on the host is distinct: each service's port
 * (behind the proxy, its two slot ports), the proxy's public port of each
 * service, and the proxy's admin port.
 */
export function portProblems(services: readonly ServiceSpec[], ctx: Pick<BundleContext, "proxyPort" | "proxyAdminPort">): string[] {
    const proxied = ctx.proxyPort > 0;
    const label = (i: number, what: string) => `api-server:services[${i}].${what}`;
    const taken: { port: number; who: string }[] = [];
    const problems: string[] = [];
    const take = (port: number, who: string) => {
        const other = taken.find(t => t.port === port);
        if (other) problems.push(`${who} collides with ${other.who}: every port the bundle uses must differ; choose another`);
        else taken.push({ port, who });
    };
    if (proxied) take(ctx.proxyAdminPort, `api-server:proxyAdminPort ${ctx.proxyAdminPort}`);
    services.forEach((s, i) => {
        if (proxied) {
            if (s.port + 1 > 65535) {
                problems.push(`${label(i, "port")} ${s.port} leaves no second slot port for the proxy: choose one below 65535`);
            }
            take(s.port, `${label(i, "port")} ${s.port} (slot port)`);
            take(s.port + 1, `${label(i, "port")} + 1 = ${s.port + 1} (slot port)`);
            take(s.publicPort, `${label(i, "publicPort")} ${s.publicPort} (public port)`);
        } else {
            take(s.port, `${label(i, "port")} ${s.port}`);
        }
    });
    return problems;
}
