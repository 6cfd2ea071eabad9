// The reverse proxy's configuration (Caddy's JSON config): a pure function, tested directly.

export interface ProxyConfigArgs {
    /** Public port the proxy listens on (all interfaces). */
    readonly port: number;
    /** Loopback port of the admin API. */
    readonly adminPort: number;
}

/**
 * The proxy's one config, loaded at start and never changed: every request
 * goes to the upstream the release switch sets through the admin API
 * (PUT /slot/upstream, the `slot` modules of tools/proxy), so a switch is not
 * a config reload and closes no client connection. A refused dial is retried
 * for up to 2 s. Before the first switch, and whenever the upstream cannot be
 * reached, the answer is 503 with Retry-After.
 */
export function proxyConfig(args: ProxyConfigArgs): string {
    return JSON.stringify({
        admin: { listen: `127.0.0.1:${args.adminPort}` },
        apps: {
            http: {
                servers: {
                    public: {
                        listen: [`:${args.port}`],
                        automatic_https: { disable: true },
                        routes: [{
                            handle: [{
                                handler: "reverse_proxy",
                                dynamic_upstreams: { source: "slot" },
                                load_balancing: { try_duration: "2s", try_interval: "100ms" },
                            }],
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
                    },
                },
            },
        },
    });
}
