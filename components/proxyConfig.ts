// The reverse proxy's configuration (Caddy's JSON config): pure functions, tested directly.

export interface ProxyConfigArgs {
    /** Public port the proxy listens on (all interfaces). */
    readonly port: number;
    /** Loopback port of the admin API. */
    readonly adminPort: number;
}

/** The upstream's placeholder in the config the switch loads. */
export const UPSTREAM_PLACEHOLDER = "__UPSTREAM__";

function config(args: ProxyConfigArgs, handler: Record<string, unknown>): string {
    return JSON.stringify({
        admin: { listen: `127.0.0.1:${args.adminPort}` },
        apps: {
            http: {
                servers: {
                    public: {
                        listen: [`:${args.port}`],
                        automatic_https: { disable: true },
                        routes: [{ handle: [handler] }],
                    },
                },
            },
        },
    });
}

/**
 * The config the switch loads: every request to the one upstream (`@id`
 * "upstream", so the switch can read where traffic goes). A refused dial is
 * retried for up to 2 s, which covers an upstream that restarts.
 */
export function proxyConfig(args: ProxyConfigArgs, upstream = UPSTREAM_PLACEHOLDER): string {
    return config(args, {
        handler: "reverse_proxy",
        upstreams: [{ "@id": "upstream", dial: upstream }],
        load_balancing: { try_duration: "2s", try_interval: "100ms" },
    });
}

/** The config a new proxy starts with, before any release is switched in: 503 with Retry-After. */
export function bootstrapConfig(args: ProxyConfigArgs): string {
    return config(args, {
        handler: "static_response",
        status_code: 503,
        headers: { "Retry-After": ["5"] },
        body: "no release is switched in yet\n",
    });
}
