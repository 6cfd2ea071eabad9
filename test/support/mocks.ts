// The one place mocks live: runs the deploy program against Pulumi's mock
// monitor and records every registration as the engine would receive it.
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";

/** A registration as the mock engine saw it. */
export interface Registered {
    urn: string;
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    /** Raw serialized inputs, with secret markers intact. */
    raw: Record<string, unknown>;
    dependencies: string[];
    deleteBeforeReplace: boolean;
}

export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** What each command resource "prints" under mocks (its stdout). */
function mockStdout(name: string): string {
    if (name.endsWith("-dump")) {
        return 'backup: ok\n{"path":"/var/backups/api-server/pre_release_v1.1.0_20261101T000000Z.dump","sha256":"' + "a".repeat(64) + '","bytes":1234,"verified":"restore","takenAt":"20261101T000000Z"}';
    }
    if (name.endsWith("-migrate")) return '{"from":1,"to":2}';
    if (name.endsWith("-container")) return '{"containerId":"' + "c".repeat(64) + '","startedAt":"2026-11-01T00:00:00Z"}';
    if (name.endsWith("-bundle")) return 'artifact: ok\n{"path":"/var/backups/api-server/release_v1.1.0_20261101T000000Z.tar.gz","sha256":"' + "e".repeat(64) + '","bytes":2048}';
    if (name.endsWith("-check")) return 'smoke: ok\n{"liveSchema":2,"dirty":false,"endpoints":0}';
    return "ok";
}

/** A complete, valid config for the program; override keys per test. */
export function validConfig(overrides: Record<string, string> = {}): Record<string, string> {
    return {
        "release:version": "v1.1.0",
        "release:gitSha": "4d894ce32fa1ab24d29076b8ac6fc275a9bc145f",
        "release:image": "127.0.0.1:5000/acme/api",
        "release:imageDigest": "sha256:" + "b".repeat(64),
        "release:schemaVersion": "2",
        "api-server:dbPassword": "s3cret-password-value",
        ...overrides,
    };
}

export interface ProgramRun {
    exports: Record<string, unknown>;
    resources: Registered[];
    byName(name: string): Registered;
}

/** Resolves an Output's value (test only). */
export function valueOf<T>(o: pulumi.Output<T> | T): Promise<T> {
    return new Promise(resolve => pulumi.output(o).apply(v => { resolve(v as T); return v; }));
}

/** Runs index.ts with the given config under mocks and returns what it registered. */
export async function runProgram(config: Record<string, string>): Promise<ProgramRun> {
    const resources: Registered[] = [];
    pulumi.runtime.setMocks({
        newResource: args => ({ id: `${args.name}-id`, state: { ...args.inputs, stdout: mockStdout(args.name), stderr: "", repoDigest: args.inputs.name } }),
        call: args => { throw new Error(`unmocked call ${args.token}`); },
    }, "api-server", "unit", false);
    pulumi.runtime.setAllConfig(config, Object.keys(config).filter(k => k.endsWith(":dbPassword")));
    // Record the registrations (with their dependencies) on their way to the mock engine.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const monitor = require("@pulumi/pulumi/runtime/settings").getMonitor();
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, cb: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        const raw = req.getObject()?.toJavaScript() ?? {};
        resources.push({
            urn: "", type: req.getType(), name: req.getName(), inputs: {}, raw,
            dependencies: req.getDependenciesList(), deleteBeforeReplace: req.getDeletebeforereplace(),
        });
        const entry = resources[resources.length - 1];
        return original(req, (err: unknown, resp: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
            if (resp) entry.urn = resp.getUrn();
            cb(err, resp);
        });
    };
    const indexPath = path.resolve(__dirname, "..", "..", "index");
    delete require.cache[require.resolve(indexPath)];
    const exports = require(indexPath) as Record<string, unknown>; // eslint-disable-line @typescript-eslint/no-require-imports
    await valueOf(exports.releaseRecord as pulumi.Output<unknown>);
    await new Promise(r => setImmediate(r));
    return {
        exports,
        resources,
        byName(name: string) {
            const r = resources.find(x => x.name === name);
            if (!r) throw new Error(`no resource named ${name}; registered: ${resources.map(x => x.name).join(", ")}`);
            return r;
        },
    };
}

/** Runs the program expecting its config validation to throw; returns the error. */
export async function programError(config: Record<string, string>): Promise<Error> {
    try {
        await runProgram(config);
    } catch (err) {
        return err as Error;
    }
    throw new Error("the program accepted the config");
}
