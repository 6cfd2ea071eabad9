// The reverse proxy's configuration (Caddy's JSON config): a pure function, tested directly.

/** One service the proxy fronts. */
export interface ProxiedService {
    /** The slot's name: the service's container name. */
    readonly slot: string;
    /** Public port the proxy listens on for it (all interfaces). */
    readonly publicPort: number;
    /** Its health path: reachable while maintenance is on. */
    readonly healthPath: string;
}

export interface ProxyConfigArgs {
    /** Loopback port of the admin API. */
    readonly adminPort: number;
    /** The services, each on its own public port. */
    readonly services: readonly ProxiedService[];
}

/**
 * The proxy's one config, loaded at start and never changed: one server per
 * service, whose requests go to the upstream the release switch sets through
 * the admin API (PUT /slot/upstream/<slot>, the `slot` modules of
 * tools/proxy), so a switch is not a config reload and closes no client
 * connection. A refused dial is retried for up to 2 s. Before the first
 * switch, and whenever the upstream cannot be reached, the answer is 503 with
 * Retry-After. While maintenance is on (PUT /slot/maintenance), every request
 * but the health path gets 503 with the maintenance message.
 */
export function proxyConfig(args: ProxyConfigArgs): string {
    const servers: Record<string, unknown> = {};
    for (const s of args.services) {
        servers[s.slot] = {
            listen: [`:${s.publicPort}`],
            automatic_https: { disable: true },
            routes: [{
                handle: [
                    { handler: "slot_maintenance", allow: [s.healthPath], retry_after: 30 },
                    {
                        handler: "reverse_proxy",
                        dynamic_upstreams: { source: "slot", name: s.slot },
                        load_balancing: { try_duration: "2s", try_interval: "100ms" },
                    },
                ],
            }],
            errors: {
                routes: [{
                    handle: [{
                        handler: "static_response",
                        status_code: "{http.error.status_code}",
                        headers: { "Retry-After": ["5"] },
                        body: "no release answers right now\n",
                    }],
                }],
            },
        };
    }
    return JSON.stringify({ admin: { listen: `127.0.0.1:${args.adminPort}` }, apps: { http: { servers } } });
}
