// deployctl status: what runs now, read from the live system (Docker, the proxy, the database,
// the backend's lock) and compared with the release record (the stack outputs). Any difference
// is drift, named in one line each.
import { Stack } from "./pulumiCli";
import { LiveSchema } from "../components/schema";
import { dockerEnvOf, LiveHost, readLiveSchema, run, runningContainer, serviceContainers, stackHosts, StackSettings } from "./live";
import { stackLocked } from "./workspace";

/** One service as it runs now. */
export interface ServiceStatus {
    name: string;
    /** The running container (behind the proxy, the active slot's), or "" when none runs. */
    container: string;
    version: string;
    digest: string;
    /** Its health path's answer on the container's port: "200 v1.1.0", or "no answer". */
    health: string;
    /** What the release record says it runs. */
    recorded: { version: string; imageRef: string };
}

/** One host and what runs on it. */
export interface HostStatus {
    name: string;
    /** Its Docker endpoint, or "local" for the default socket. */
    endpoint: string;
    address: string;
    services: ServiceStatus[];
    /** Maintenance as this host's proxy has it: on, off, "no proxy" or "unknown". */
    maintenance: string;
}

export interface Status {
    stack: string;
    /** The release the record (stack outputs) names. */
    release: string;
    /** The first host's Docker engine: its endpoint, or "local" for the default socket. */
    host: string;
    /** The first host's services. */
    services: ServiceStatus[];
    /** Every host, in switch order (one for a stack that lists none). */
    hosts: HostStatus[];
    schema: LiveSchema | { error: string };
    /** maintenance as configured, and as the first host's proxy has it. */
    maintenance: { config: string; proxy: string };
    locked: boolean;
    /** Every difference between the live system and the record, one line each. */
    drift: string[];
}

/** The record's view of each service on a host: a listed host's, else a bundle's `services` output, else the single release. */
export function recordedServices(outputs: Record<string, unknown>, names: string[], host?: string): Record<string, { version: string; imageRef: string }> {
    const byHost = outputs.hosts as Record<string, { services?: Record<string, { version: string; imageRef: string }> }> | undefined;
    const services = (host !== undefined ? byHost?.[host]?.services : undefined) ?? outputs.services as Record<string, { version: string; imageRef: string }> | undefined;
    const out: Record<string, { version: string; imageRef: string }> = {};
    for (const name of names) {
        out[name] = services?.[name]
            ? { version: services[name].version, imageRef: services[name].imageRef }
            : { version: String(outputs.version ?? ""), imageRef: String(outputs.image ?? "") };
    }
    return out;
}

/** The drift lines: a service not running, or running another version or digest than recorded; maintenance not as configured. */
export function driftOf(st: Pick<Status, "hosts" | "maintenance">): string[] {
    const drift: string[] = [];
    const many = st.hosts.length > 1;
    for (const h of st.hosts) drift.push(...hostDrift(h, st.maintenance.config).map(d => many ? `host ${h.name}: ${d}` : d));
    return drift;
}

function hostDrift(h: HostStatus, maintenance: string): string[] {
    const drift: string[] = [];
    for (const s of h.services) {
        const digest = s.recorded.imageRef.slice(s.recorded.imageRef.indexOf("@") + 1);
        if (s.container === "") drift.push(`service ${s.name}: no container runs; the record says ${s.recorded.version || "nothing"}`);
        else if (s.version !== s.recorded.version) drift.push(`service ${s.name}: ${s.container} runs ${s.version}; the record says ${s.recorded.version}`);
        else if (digest !== "" && s.digest !== digest) drift.push(`service ${s.name}: ${s.container} runs digest ${s.digest}; the record says ${digest}`);
        if (s.container !== "" && !s.health.startsWith("200")) drift.push(`service ${s.name}: its health check answers ${s.health}`);
    }
    if (h.maintenance !== "no proxy" && h.maintenance !== "unknown" && h.maintenance !== maintenance) {
        drift.push(`maintenance is ${h.maintenance} on the proxy; the stack config says ${maintenance}`);
    }
    return drift;
}

async function curl(url: string): Promise<{ code: string; body: string }> {
    const r = await run("curl", ["-sS", "--max-time", "3", "-w", "\n%{http_code}", url], process.env);
    const lines = r.out.split("\n");
    return { code: r.code === 0 ? lines.pop() ?? "000" : "000", body: lines.join("\n") };
}

/** Maintenance as a host's proxy has it: through its admin API on loopback, or docker exec on a listed host. */
async function proxyMaintenance(settings: StackSettings, host: LiveHost): Promise<string> {
    if (Number(settings.get("proxyPort")) <= 0) return "no proxy";
    const admin = `127.0.0.1:${settings.get("proxyAdminPort")}`;
    const m = host.listed
        ? await run("docker", ["exec", `${settings.get("appName")}-proxy`, "caddy", "slot-admin", "--address", admin, "GET", "/slot/maintenance"], dockerEnvOf(settings, host))
            .then(r => ({ code: r.code === 0 ? "200" : "000", body: r.out }))
        : await curl(`http://${admin}/slot/maintenance`);
    return m.code === "200" ? (/"on"\s*:\s*true/.test(m.body) ? "on" : "off") : "unknown";
}

/** What runs on one host: each service's container, its labels and its health answer. */
async function readHost(settings: StackSettings, outputs: Record<string, unknown>, host: LiveHost): Promise<HostStatus> {
    const svcs = serviceContainers(settings);
    const recorded = recordedServices(outputs, svcs.map(s => s.name), host.listed ? host.name : undefined);
    const address = host.address;
    const raw = settings.get("services");
    const spec = raw ? (JSON.parse(raw) as { name: string; port: number | string; healthPath?: string }[]) : [];
    const services = await Promise.all(svcs.map(async (svc, i): Promise<ServiceStatus> => {
        const running = await runningContainer(settings, svc.container, host);
        const { name = "", version = "", digest = "", slot = "" } = running ?? {};
        const port = slot || String(spec[i]?.port ?? settings.get("appPort"));
        const healthPath = spec[i]?.healthPath ?? settings.get("healthPath");
        let health = "no answer";
        if (name) {
            const h = await curl(`http://${address.includes(":") ? `[${address}]` : address}:${port}${healthPath}`);
            const v = /"version"\s*:\s*"([^"]*)"/.exec(h.body)?.[1];
            if (h.code !== "000") health = `${h.code}${v ? ` ${v}` : ""}`;
        }
        return { name: svc.name, container: name, version, digest, health, recorded: recorded[svc.name] };
    }));
    return { name: host.name, endpoint: host.endpoint || "local", address, services, maintenance: await proxyMaintenance(settings, host) };
}

/** Reads the live state of a stack's hosts (services, proxy) and database. */
export async function readStatus(stack: Stack, settings: StackSettings): Promise<Status> {
    const outputs = Object.fromEntries(Object.entries(await stack.outputs()).map(([k, v]) => [k, v.value])) as Record<string, unknown>;
    const [hosts, schema] = await Promise.all([
        Promise.all(stackHosts(settings).map(h => readHost(settings, outputs, h))),
        readLiveSchema(settings).catch((err: Error): Status["schema"] => ({ error: err.message })),
    ]);
    const maintenance = { config: settings.get("maintenance"), proxy: hosts[0].maintenance };
    const st = {
        stack: stack.name, release: String(outputs.version ?? ""), host: hosts[0].endpoint, services: hosts[0].services, hosts,
        schema, maintenance, locked: stackLocked(stack.name), drift: [] as string[],
    };
    st.drift = driftOf(st);
    return st;
}

/** The status for people. */
export function statusText(st: Status): string {
    const lines = [`stack ${st.stack}: release ${st.release || "none"}${st.locked ? " (locked: an update is in progress, or was killed)" : ""}`];
    const widths = [7, 40, 8, 20];
    for (const h of st.hosts) {
        lines.push(st.hosts.length > 1 || h.name !== "local" ? `host ${h.name}: ${h.endpoint} (address ${h.address})` : `host: ${h.endpoint}`);
        lines.push(["service", "container", "version", "health"].map((x, i) => x.padEnd(widths[i])).join("  ") + "  digest");
        for (const s of h.services) {
            lines.push([s.name, s.container || "-", s.version || "-", s.health].map((c, i) => c.padEnd(widths[i])).join("  ") + `  ${s.digest ? s.digest.slice(0, 19) : "-"}`);
        }
    }
    lines.push("error" in st.schema ? `schema: unreadable (${st.schema.error})` : `schema: ${st.schema.version}${st.schema.dirty ? " (dirty)" : " (clean)"}`);
    const proxies = [...new Set(st.hosts.map(h => h.maintenance))];
    const onProxy = proxies.length === 1 ? proxies[0] : st.hosts.map(h => `${h.name} ${h.maintenance}`).join(", ");
    lines.push(`maintenance: ${onProxy === "no proxy" ? "no proxy" : `${onProxy} (config: ${st.maintenance.config})`}`);
    lines.push(st.drift.length === 0 ? "drift: none, the live system matches the release record" : `drift:\n${st.drift.map(d => `  - ${d}`).join("\n")}`);
    return lines.join("\n");
}
