// deployctl status: what runs now, read from the live system (Docker, the proxy, the database,
// the backend's lock) and compared with the release record (the stack outputs). Any difference
// is drift, named in one line each.
import { Stack } from "@pulumi/pulumi/automation";
import { LiveSchema } from "../components/schema";
import { readLiveSchema, run, runningContainer, serviceContainers, StackSettings } from "./live";
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

export interface Status {
    stack: string;
    /** The release the record (stack outputs) names. */
    release: string;
    /** The Docker engine the services run on (the stack has one host): its endpoint, or "local" for the default socket. */
    host: string;
    services: ServiceStatus[];
    schema: LiveSchema | { error: string };
    maintenance: { config: string; proxy: string };
    locked: boolean;
    /** Every difference between the live system and the record, one line each. */
    drift: string[];
}

/** The record's view of each service: a bundle's `services` output, else the single release. */
export function recordedServices(outputs: Record<string, unknown>, names: string[]): Record<string, { version: string; imageRef: string }> {
    const services = outputs.services as Record<string, { version: string; imageRef: string }> | undefined;
    const out: Record<string, { version: string; imageRef: string }> = {};
    for (const name of names) {
        out[name] = services?.[name]
            ? { version: services[name].version, imageRef: services[name].imageRef }
            : { version: String(outputs.version ?? ""), imageRef: String(outputs.image ?? "") };
    }
    return out;
}

/** The drift lines: a service not running, or running another version or digest than recorded; maintenance not as configured. */
export function driftOf(st: Pick<Status, "services" | "maintenance">): string[] {
    const drift: string[] = [];
    for (const s of st.services) {
        const digest = s.recorded.imageRef.slice(s.recorded.imageRef.indexOf("@") + 1);
        if (s.container === "") drift.push(`service ${s.name}: no container runs; the record says ${s.recorded.version || "nothing"}`);
        else if (s.version !== s.recorded.version) drift.push(`service ${s.name}: ${s.container} runs ${s.version}; the record says ${s.recorded.version}`);
        else if (digest !== "" && s.digest !== digest) drift.push(`service ${s.name}: ${s.container} runs digest ${s.digest}; the record says ${digest}`);
        if (s.container !== "" && !s.health.startsWith("200")) drift.push(`service ${s.name}: its health check answers ${s.health}`);
    }
    if (st.maintenance.proxy !== "no proxy" && st.maintenance.proxy !== "unknown" && st.maintenance.proxy !== st.maintenance.config) {
        drift.push(`maintenance is ${st.maintenance.proxy} on the proxy; the stack config says ${st.maintenance.config}`);
    }
    return drift;
}

async function curl(url: string): Promise<{ code: string; body: string }> {
    const r = await run("curl", ["-sS", "--max-time", "3", "-w", "\n%{http_code}", url], process.env);
    const lines = r.out.split("\n");
    return { code: r.code === 0 ? lines.pop() ?? "000" : "000", body: lines.join("\n") };
}

/** Reads the live state of a stack's services, proxy and database. */
export async function readStatus(stack: Stack, settings: StackSettings): Promise<Status> {
    const outputs = Object.fromEntries(Object.entries(await stack.outputs()).map(([k, v]) => [k, v.value])) as Record<string, unknown>;
    const svcs = serviceContainers(settings);
    const recorded = recordedServices(outputs, svcs.map(s => s.name));
    const host = settings.get("appHost");
    const raw = settings.get("services");
    const spec = raw ? (JSON.parse(raw) as { name: string; port: number | string; healthPath?: string }[]) : [];
    const services: ServiceStatus[] = [];
    for (const [i, svc] of svcs.entries()) {
        const running = await runningContainer(settings, svc.container);
        const { name = "", version = "", digest = "", slot = "" } = running ?? {};
        const port = slot || String(spec[i]?.port ?? settings.get("appPort"));
        const healthPath = spec[i]?.healthPath ?? settings.get("healthPath");
        let health = "no answer";
        if (name) {
            const h = await curl(`http://${host.includes(":") ? `[${host}]` : host}:${port}${healthPath}`);
            const v = /"version"\s*:\s*"([^"]*)"/.exec(h.body)?.[1];
            if (h.code !== "000") health = `${h.code}${v ? ` ${v}` : ""}`;
        }
        services.push({ name: svc.name, container: name, version, digest, health, recorded: recorded[svc.name] });
    }
    let schema: Status["schema"];
    try {
        schema = await readLiveSchema(settings);
    } catch (err) {
        schema = { error: (err as Error).message };
    }
    let proxy = "no proxy";
    if (Number(settings.get("proxyPort")) > 0) {
        const m = await curl(`http://127.0.0.1:${settings.get("proxyAdminPort")}/slot/maintenance`);
        proxy = m.code === "200" ? (/"on"\s*:\s*true/.test(m.body) ? "on" : "off") : "unknown";
    }
    const maintenance = { config: settings.get("maintenance"), proxy };
    const st = { stack: stack.name, release: String(outputs.version ?? ""), host: settings.get("dockerHost") || "local", services, schema, maintenance, locked: stackLocked(stack.name), drift: [] as string[] };
    st.drift = driftOf(st);
    return st;
}

/** The status for people. */
export function statusText(st: Status): string {
    const lines = [`stack ${st.stack}: release ${st.release || "none"}${st.locked ? " (locked: an update is in progress, or was killed)" : ""}`];
    const widths = [7, 40, 8, 20];
    lines.push(`host: ${st.host}`);
    lines.push(["service", "container", "version", "health"].map((h, i) => h.padEnd(widths[i])).join("  ") + "  digest");
    for (const s of st.services) {
        lines.push([s.name, s.container || "-", s.version || "-", s.health].map((c, i) => c.padEnd(widths[i])).join("  ") + `  ${s.digest ? s.digest.slice(0, 19) : "-"}`);
    }
    lines.push("error" in st.schema ? `schema: unreadable (${st.schema.error})` : `schema: ${st.schema.version}${st.schema.dirty ? " (dirty)" : " (clean)"}`);
    lines.push(`maintenance: ${st.maintenance.proxy === "no proxy" ? "no proxy" : `${st.maintenance.proxy} (config: ${st.maintenance.config})`}`);
    lines.push(st.drift.length === 0 ? "drift: none, the live system matches the release record" : `drift:\n${st.drift.map(d => `  - ${d}`).join("\n")}`);
    return lines.join("\n");
}
