// The hosts a release runs on, and the batches they switch in. Pure: parsed
// and checked once, tested directly.
//
// `api-server:hosts` lists them; without it a stack has one host, made of
// dockerHost and appHost, as before hosts existed. Each host has its own
// proxy and containers of the bundle; the backup and the migrations run once
// per release, and the hosts switch in batches of `api-server:batchSize`, each
// batch only after every host of the one before passed its smoke tests.
import { DNS_LABEL_RE, HOST_RE, show } from "./rules";

/** One host of the stack. */
export interface HostSpec {
    /** A DNS label naming the host in resource names, outputs and messages. */
    readonly name: string;
    /** The Docker endpoint: unix:///path, tcp://host:port or ssh://[user@]host[:port]; "" inherits DOCKER_HOST. */
    readonly endpoint: string;
    /** The address its health checks, smoke tests and proxy upstreams use. */
    readonly address: string;
}

const HOST_KEYS = ["name", "endpoint", "address"];
const UNIX_RE = /^unix:\/\/\/[A-Za-z0-9._/@+-]+$/;
const TCP_RE = /^tcp:\/\/[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})$/;
const SSH_RE = /^ssh:\/\/(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?$/;
// Characters a shell gives a meaning to: refused in an ssh endpoint, which reaches an ssh command line.
const SHELL_META_RE = /[\s;&|<>$`\\"'(){}[\]*?!#~]/;

/** Why an endpoint is not a Docker endpoint this project reaches, or undefined when it is. */
export function endpointProblem(key: string, v: string): string | undefined {
    if (v.startsWith("ssh://") && SHELL_META_RE.test(v)) {
        return `${key} ${show(v)} is invalid: an ssh endpoint must not contain shell metacharacters (spaces, ;&|<>$\`\\"'(){}[]*?!#~)`;
    }
    if (UNIX_RE.test(v) || TCP_RE.test(v) || SSH_RE.test(v)) {
        const port = /:(\d+)$/.exec(v.replace(/^[a-z]+:\/\//, ""));
        if (!port || (Number(port[1]) >= 1 && Number(port[1]) <= 65535) || v.startsWith("unix://")) return undefined;
    }
    return `${key} ${show(v)} is invalid: must be unix:///absolute/path, tcp://host:port or ssh://[user@]host[:port]`;
}

/**
 * Reads `api-server:hosts`: a non-empty list of { name, endpoint, address }.
 * Without it, the one host `fallback` (dockerHost and appHost). Problems are
 * appended, one line per bad key.
 */
export function parseHosts(raw: unknown, fallback: HostSpec, problems: string[]): HostSpec[] {
    if (raw === undefined || raw === null) return [fallback];
    const key = "api-server:hosts";
    if (!Array.isArray(raw) || raw.length === 0) {
        problems.push(`${key} is invalid: must be a non-empty list of { name, endpoint, address }`);
        return [fallback];
    }
    const hosts: HostSpec[] = [];
    const seen = new Map<string, string>();
    raw.forEach((item: unknown, i) => {
        const at = `${key}[${i}]`;
        if (typeof item !== "object" || item === null || Array.isArray(item)) {
            problems.push(`${at} is invalid: must be an object { name, endpoint, address }`);
            return;
        }
        const o = item as Record<string, unknown>;
        for (const k of Object.keys(o)) {
            if (!HOST_KEYS.includes(k)) problems.push(`${at}.${k} is not a host setting: a host has ${HOST_KEYS.join(", ")}`);
        }
        const str = (k: string) => typeof o[k] === "string" ? o[k] as string : undefined;
        const name = str("name"), endpoint = str("endpoint"), address = str("address");
        if (name === undefined || !DNS_LABEL_RE.test(name)) {
            problems.push(`${at}.name ${show(o.name)} is invalid: must be a DNS label (a-z, 0-9, -; up to 63)`);
        } else if (seen.has(name)) {
            problems.push(`${at}.name ${show(name)} is a duplicate: host names must be unique`);
        } else {
            seen.set(name, at);
        }
        if (endpoint === undefined) problems.push(`${at}.endpoint is not set: the host's Docker endpoint (unix://, tcp:// or ssh://)`);
        else {
            const p = endpointProblem(`${at}.endpoint`, endpoint);
            if (p) problems.push(p);
        }
        if (address === undefined || !HOST_RE.test(address)) {
            problems.push(`${at}.address ${show(o.address)} is invalid: must be the host name or IP address its health checks and proxy use`);
        }
        hosts.push({ name: name ?? "", endpoint: endpoint ?? "", address: address ?? "" });
    });
    const endpoints = new Map<string, number>();
    hosts.forEach((h, i) => {
        if (h.endpoint === "") return;
        if (endpoints.has(h.endpoint)) {
            problems.push(`${key}[${i}].endpoint ${show(h.endpoint)} is a duplicate of ${key}[${endpoints.get(h.endpoint)}]'s: two hosts on one engine would replace each other's containers`);
        } else endpoints.set(h.endpoint, i);
    });
    return hosts;
}

/** Why a batch size is invalid, or undefined: a whole number of hosts (1 or more) or a percentage (1% to 100%). */
export function batchSizeProblem(key: string, v: string): string | undefined {
    const pct = /^(\d{1,3})%$/.exec(v);
    if (pct) return Number(pct[1]) >= 1 && Number(pct[1]) <= 100 ? undefined : `${key} ${show(v)} is invalid: a percentage must be from 1% to 100%`;
    if (/^\d{1,4}$/.test(v)) return Number(v) >= 1 ? undefined : `${key} ${show(v)} is invalid: must be at least 1 host`;
    return `${key} ${show(v)} is invalid: must be a number of hosts (1 or more) or a percentage like 50%`;
}

/**
 * The hosts in the batches they switch in, in their listed order: batches of
 * `size` hosts, or of ceil(size% of the hosts) hosts, at least one.
 */
export function batchesOf<T>(hosts: readonly T[], size: string): T[][] {
    const pct = /^(\d+)%$/.exec(size);
    const n = Math.max(1, pct ? Math.ceil(hosts.length * Number(pct[1]) / 100) : Number(size));
    const out: T[][] = [];
    for (let i = 0; i < hosts.length; i += n) out.push(hosts.slice(i, i + n));
    return out;
}
