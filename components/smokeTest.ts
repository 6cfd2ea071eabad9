// Post-switch smoke test, as the playbook asks: the health path answers 200 with the
// release's version, every critical endpoint answers its status, and the live schema
// is clean and inside the release's range.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { CriticalEndpoint } from "./config";
import { DatabaseConnection, pgEnv } from "./databaseBackup";
import { SchemaRange } from "./schema";
import { BASH, lastJsonLine, scriptFile, withDockerHost } from "./shell";
import { childOpts } from "./options";

/** The smoke script: components/scripts/smoke.sh. */
export function smokeScript(): string {
    return scriptFile("smoke.sh");
}

/** The CRITICAL variable of the smoke script: one "path status" per line. */
export function criticalLines(endpoints: readonly CriticalEndpoint[]): string {
    return endpoints.map(e => `${e.path} ${e.status}`).join("\n");
}

/** What a passed smoke test reports. */
export interface SmokeResult {
    liveSchema: number;
    dirty: boolean;
    endpoints: number;
}

export interface SmokeTestArgs {
    /** http://host:port of the service. */
    readonly baseUrl: pulumi.Input<string>;
    /** Where the critical endpoints are asked, when not baseUrl (the new container, during maintenance). */
    readonly criticalUrl?: pulumi.Input<string>;
    /** Health endpoint path. */
    readonly healthPath: pulumi.Input<string>;
    /** Version the app must report. */
    readonly expectVersion: pulumi.Input<string>;
    /** Endpoints that must answer with their status. */
    readonly critical: readonly CriticalEndpoint[];
    /** The schema versions the release runs on. */
    readonly range: SchemaRange;
    /** The database whose migration status is checked. */
    readonly db: DatabaseConnection;
    /** The migration tool's version table. */
    readonly schemaTable: pulumi.Input<string>;
    /** The container whose last log lines go into a failure. */
    readonly container: pulumi.Input<string>;
    /** Docker engine of that container; empty inherits DOCKER_HOST. */
    readonly dockerHost: string;
    /** Attempts before failing. */
    readonly retries: pulumi.Input<number>;
    /** Timeout of each attempt, seconds. */
    readonly timeoutSeconds: pulumi.Input<number>;
    /** Runs again whenever these change (the release identity and the container). */
    readonly triggers: pulumi.Input<pulumi.Input<string>[]>;
}

/** Checks the deployed service answers as the release it should be, on a schema it runs on. */
export class SmokeTest extends pulumi.ComponentResource {
    /** The smoke test's report. */
    public readonly report: pulumi.Output<string>;
    /** The live schema the smoke test saw. */
    public readonly liveSchema: pulumi.Output<number>;
    /** Whether that schema was dirty. */
    public readonly dirty: pulumi.Output<boolean>;

    constructor(name: string, args: SmokeTestArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-server:release:SmokeTest", name, {}, opts);
        const cmd = new command.local.Command(`${name}-check`, {
            interpreter: BASH,
            create: smokeScript(),
            environment: withDockerHost({
                ...pgEnv(args.db),
                BASE_URL: args.baseUrl,
                CRITICAL_URL: args.criticalUrl ?? "",
                HEALTH_PATH: args.healthPath,
                EXPECT_VERSION: args.expectVersion,
                CRITICAL: criticalLines(args.critical),
                SCHEMA_MIN: args.range.min === undefined ? "" : String(args.range.min),
                SCHEMA_MAX: args.range.max === undefined ? "" : String(args.range.max),
                SCHEMA_TABLE: args.schemaTable,
                CONTAINER: args.container,
                RETRIES: pulumi.output(args.retries).apply(String),
                TIMEOUT: pulumi.output(args.timeoutSeconds).apply(String),
            }, args.dockerHost),
            triggers: args.triggers,
        }, childOpts(this, opts));
        const result = cmd.stdout.apply(out => lastJsonLine<SmokeResult>(out));
        this.report = cmd.stdout;
        this.liveSchema = result.liveSchema;
        this.dirty = result.dirty;
        this.registerOutputs({ report: this.report, liveSchema: this.liveSchema, dirty: this.dirty });
    }
}
