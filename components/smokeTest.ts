// Post-deploy smoke test: the health endpoint answers 200 and reports the release's version.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { BASH, bashScript } from "./shell";
import { childOpts } from "./options";

/**
 * Reads URL, EXPECT_VERSION, RETRIES and TIMEOUT. Retries while the endpoint
 * does not answer 200; fails at once when it answers 200 with another version.
 */
export function smokeScript(): string {
    return bashScript(
        'last="no answer"',
        'for i in $(seq 1 "$RETRIES"); do',
        '  out=$(curl -sS --max-time "$TIMEOUT" -w "\\n%{http_code}" "$URL" 2>&1) || true',
        '  code=${out##*$\'\\n\'}; body=${out%$\'\\n\'*}',
        '  if [ "$code" = 200 ]; then',
        '    got=$(printf "%s" "$body" | sed -n \'s/.*"version"[[:space:]]*:[[:space:]]*"\\([^"]*\\)".*/\\1/p\')',
        '    if [ -z "$got" ] || [ "$got" = "$EXPECT_VERSION" ]; then echo "smoke: $URL answered 200 with version ${got:-(none reported)} (attempt $i)"; exit 0; fi',
        '    echo "smoke: $URL reports version $got, expected $EXPECT_VERSION" >&2; exit 1',
        "  fi",
        '  last="HTTP ${code:-none}: $(printf "%s" "$body" | tail -c 200)"',
        "  sleep 1",
        "done",
        'echo "smoke: $URL failed after $RETRIES attempts; last: $last" >&2',
        "exit 1",
    );
}

export interface SmokeTestArgs {
    /** URL of the health endpoint. */
    readonly url: pulumi.Input<string>;
    /** Version the app must report. */
    readonly expectVersion: pulumi.Input<string>;
    /** Attempts before failing. */
    readonly retries: pulumi.Input<number>;
    /** Timeout of each attempt, seconds. */
    readonly timeoutSeconds: pulumi.Input<number>;
    /** Runs again whenever these change (the release identity and the container). */
    readonly triggers: pulumi.Input<pulumi.Input<string>[]>;
}

/** Checks the deployed service answers as the release it should be. */
export class SmokeTest extends pulumi.ComponentResource {
    /** The smoke test's report line. */
    public readonly report: pulumi.Output<string>;

    constructor(name: string, args: SmokeTestArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-server:release:SmokeTest", name, {}, opts);
        const cmd = new command.local.Command(`${name}-check`, {
            interpreter: BASH,
            create: smokeScript(),
            environment: {
                URL: args.url,
                EXPECT_VERSION: args.expectVersion,
                RETRIES: pulumi.output(args.retries).apply(String),
                TIMEOUT: pulumi.output(args.timeoutSeconds).apply(String),
            },
            triggers: args.triggers,
        }, childOpts(this, opts));
        this.report = cmd.stdout;
        this.registerOutputs({ report: this.report });
    }
}
