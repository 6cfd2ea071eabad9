// The release artifact bundle (runbook 003 §1.2): one .tar.gz per update beside the dumps,
// with its line in SHA256SUMS and its hash in the release record. Never deleted by Pulumi.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { childOpts } from "./options";
import { BASH, lastJsonLine, scriptFile, withDockerHost } from "./shell";

/** What a finished bundle reports (the last line of the command's stdout). */
export interface ArtifactResult {
    path: string;
    sha256: string;
    bytes: number;
    /** Why no bundle was written (it never fails the update: the release already serves). */
    error?: string;
}

/** The bundle script: components/scripts/artifact.sh after image-lib.sh. */
export function artifactScript(): string {
    return scriptFile("artifact.sh", "image-lib.sh");
}

/** The value a secret setting has in the bundle. */
export const REDACTED = "[secret]";

/** Settings redacted whatever the engine says of them: they hold credentials. */
const ALWAYS_SECRET = ["api-server:dbPassword", "api-server:webhookUrl"];

/**
 * The stack's config as the bundle keeps it: every key, a JSON value parsed, and each
 * secret key (the engine's list, plus the settings that always hold credentials) as
 * [secret]. An object with one secret inside is redacted whole, as the engine lists it.
 */
export function redactedConfig(all: Record<string, string>, secretKeys: readonly string[]): Record<string, unknown> {
    const secret = new Set([...secretKeys, ...ALWAYS_SECRET]);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(all).sort()) {
        if (secret.has(key)) {
            out[key] = REDACTED;
            continue;
        }
        const v = all[key];
        try {
            out[key] = /^[[{]/.test(v) ? JSON.parse(v) : v;
        } catch {
            out[key] = v;
        }
    }
    return out;
}

/** The secret keys the language host hands the program (PULUMI_CONFIG_SECRET_KEYS, set by every upstream language host). */
export function configSecretKeys(env: NodeJS.ProcessEnv = process.env): string[] {
    try {
        const keys = JSON.parse(env.PULUMI_CONFIG_SECRET_KEYS ?? "[]") as unknown;
        return Array.isArray(keys) ? keys.map(String) : [];
    } catch {
        return [];
    }
}

export interface ReleaseArtifactArgs {
    /** Where the bundle goes: the backup directory. */
    readonly dir: pulumi.Input<string>;
    readonly version: string;
    /** The stack's config, secrets redacted. */
    readonly config: Record<string, unknown>;
    /** The release record, as the outputs carry it (without the bundle's own hash). */
    readonly record: pulumi.Output<object>;
    /** Each service's image, service → repo@sha256:.... */
    readonly images: Record<string, string>;
    /** The image that carries the migrations, its tool and its migrations directory. */
    readonly imageRef: string;
    readonly migrateCommand: string;
    readonly migrationsDir: string;
    /** The Docker engine that has the image. */
    readonly dockerHost: string;
}

/**
 * Writes the bundle; a new one whenever the record changes, none on an update that changes
 * nothing. It runs after the last smoke test, so a bundle that cannot be written is a warning
 * and an `error` in the record, never a failed update.
 */
export class ReleaseArtifact extends pulumi.ComponentResource {
    public readonly path: pulumi.Output<string>;
    public readonly sha256: pulumi.Output<string>;
    public readonly bytes: pulumi.Output<number>;
    /** Why no bundle was written; empty when it was. */
    public readonly error: pulumi.Output<string>;

    constructor(name: string, args: ReleaseArtifactArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-server:release:ReleaseArtifact", name, {}, opts);
        const cmd = new command.local.Command(`${name}-bundle`, {
            interpreter: BASH,
            create: artifactScript(),
            // No delete command: a bundle is never removed by `pulumi destroy` or a replacement.
            environment: withDockerHost({
                ARTIFACT_DIR: args.dir,
                RELEASE_VERSION: args.version,
                ARTIFACT_CONFIG: JSON.stringify(args.config, null, 2),
                ARTIFACT_RECORD: args.record.apply(r => JSON.stringify(r, null, 2)),
                ARTIFACT_IMAGES: Object.entries(args.images).map(([svc, ref]) => `${svc} ${ref}`).join("\n"),
                IMAGE_REF: args.imageRef,
                MIGRATE_CMD: args.migrateCommand,
                MIGRATIONS_DIR: args.migrationsDir,
            } as Record<string, pulumi.Input<string>>, args.dockerHost),
        }, childOpts(this, opts));
        const result = cmd.stdout.apply(out => lastJsonLine<ArtifactResult>(out));
        this.path = result.path;
        this.sha256 = result.sha256;
        this.bytes = result.bytes;
        this.error = result.apply(r => r.error ?? "");
        this.registerOutputs({ path: this.path, sha256: this.sha256, bytes: this.bytes, error: this.error });
    }
}
