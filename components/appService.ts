// The running service: the release image pulled by digest and run as a container on host networking.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { BASH, bashScript, lastJsonLine, withDockerHost } from "./shell";
import { childOpts } from "./options";

/**
 * Switches the container to a new image. Reads IMAGE_REF, NAME, PORT,
 * APP_HOST, HEALTH_PATH, HEALTH_TIMEOUT, RELEASE_VERSION, RELEASE_GIT_SHA,
 * RELEASE_DIGEST and APP_ENV_KEYS (names of further variables, in this
 * environment, handed to the container without putting values on a command
 * line).
 *
 * The image is pulled by digest first, so an unpullable release changes
 * nothing. The previous container is stopped (host networking: two versions
 * cannot bind one port) but kept until the new one answers its health check;
 * if it never does, the new one is removed and the previous one started again.
 */
export function switchScript(): string {
    return bashScript(
        'docker pull -q "$IMAGE_REF" >/dev/null || { echo "container: cannot pull $IMAGE_REF; the running container was not touched" >&2; exit 1; }',
        'prev=""',
        'if docker container inspect "$NAME" >/dev/null 2>&1; then',
        '  prev="$NAME-previous-$(date +%s)"',
        '  docker rename "$NAME" "$prev"',
        '  docker stop -t 10 "$prev" >/dev/null',
        "fi",
        "envargs=()",
        'for k in $APP_ENV_KEYS; do envargs+=(-e "$k"); done',
        'id=$(docker run -d --name "$NAME" --network host --restart unless-stopped -e PORT "${envargs[@]}" \\',
        '  --label "org.opencontainers.image.version=$RELEASE_VERSION" --label "org.opencontainers.image.revision=$RELEASE_GIT_SHA" \\',
        '  --label "release.digest=$RELEASE_DIGEST" "$IMAGE_REF") || id=""',
        'healthy() { for _ in $(seq 1 $((HEALTH_TIMEOUT * 5))); do curl -fsS --max-time 2 "http://$APP_HOST:$PORT$HEALTH_PATH" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }',
        'if [ -z "$id" ] || ! healthy; then',
        '  echo "container: $IMAGE_REF did not answer on $APP_HOST:$PORT$HEALTH_PATH within ${HEALTH_TIMEOUT}s" >&2',
        '  [ -n "$id" ] && docker logs --tail 20 "$NAME" >&2 2>&1 || true',
        '  docker rm -f "$NAME" >/dev/null 2>&1 || true',
        '  if [ -n "$prev" ]; then',
        '    docker rename "$prev" "$NAME" && docker start "$NAME" >/dev/null',
        '    if healthy; then echo "container: the previous container was started again and answers" >&2; else echo "container: the previous container was started again but does not answer" >&2; fi',
        "  fi",
        "  exit 1",
        "fi",
        '[ -z "$prev" ] || docker rm -f "$prev" >/dev/null',
        'echo "container: $NAME runs $IMAGE_REF ($RELEASE_VERSION)"',
        'printf \'{"containerId":"%s","startedAt":"%s"}\\n\' "$id" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"',
    );
}

/**
 * Removes the container, but only if it is still the one this resource
 * started (PULUMI_COMMAND_STDOUT holds its id): after a replacement the name
 * belongs to the new container, which must keep running.
 */
export function removeScript(): string {
    return bashScript(
        'want=$(printf "%s" "${PULUMI_COMMAND_STDOUT:-}" | sed -n \'s/.*"containerId":"\\([0-9a-f]*\\)".*/\\1/p\')',
        'cur=$(docker container inspect -f "{{.Id}}" "$NAME" 2>/dev/null || true)',
        'if [ -n "$want" ] && [ "$cur" = "$want" ]; then docker rm -f "$NAME" >/dev/null && echo "container: removed $NAME";',
        'else echo "container: $NAME is not the container this resource started; left as it is"; fi',
    );
}

export interface AppServiceArgs {
    /** The release image, repo@sha256:.... */
    readonly imageRef: pulumi.Input<string>;
    /** Container name. */
    readonly name: pulumi.Input<string>;
    /** Port the app listens on (host networking). */
    readonly port: pulumi.Input<number>;
    /** Address the health check reaches the app on. */
    readonly appHost: pulumi.Input<string>;
    /** Health endpoint path. */
    readonly healthPath: pulumi.Input<string>;
    /** Seconds a new container has to answer its health check. */
    readonly healthTimeoutSeconds: pulumi.Input<number>;
    /** Release version, git SHA and digest, written as container labels. */
    readonly labels: { version: pulumi.Input<string>; gitSha: pulumi.Input<string>; digest: pulumi.Input<string> };
    /** Environment of the app (values may be secrets). */
    readonly env: Record<string, pulumi.Input<string>>;
    /** Docker engine address; empty inherits DOCKER_HOST. */
    readonly dockerHost: string;
    /** `cli`: the docker CLI through @pulumi/command; `provider`: @pulumi/docker. */
    readonly driver: "cli" | "provider";
    /** The release identity: the container is replaced whenever it changes. */
    readonly triggers: pulumi.Input<pulumi.Input<string>[]>;
}

/** The service container, pinned by digest. */
export class AppService extends pulumi.ComponentResource {
    /** The image reference that runs. */
    public readonly imageRef: pulumi.Output<string>;
    /** When the running container was started (UTC, ISO 8601). */
    public readonly startedAt: pulumi.Output<string>;
    /** The docker container id. */
    public readonly containerId: pulumi.Output<string>;

    constructor(name: string, args: AppServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-server:release:AppService", name, {}, opts);
        this.imageRef = pulumi.output(args.imageRef);
        if (args.driver === "provider") {
            const provider = new docker.Provider(`${name}-docker`, args.dockerHost ? { host: args.dockerHost } : {}, childOpts(this, opts));
            const image = new docker.RemoteImage(`${name}-image`, {
                name: args.imageRef,
                keepLocally: true,
            }, { ...childOpts(this, opts), provider });
            const container = new docker.Container(`${name}-container`, {
                name: args.name,
                image: image.repoDigest,
                networkMode: "host",
                restart: "unless-stopped",
                envs: pulumi.output({ ...args.env, PORT: pulumi.output(args.port).apply(String) })
                    .apply(e => Object.entries(e).map(([k, v]) => `${k}=${v}`)),
                labels: [
                    { label: "org.opencontainers.image.version", value: args.labels.version },
                    { label: "org.opencontainers.image.revision", value: args.labels.gitSha },
                    { label: "release.digest", value: args.labels.digest },
                ],
                waitTimeout: args.healthTimeoutSeconds,
                mustRun: true,
            }, { ...childOpts(this, opts), provider, deleteBeforeReplace: true, replaceOnChanges: ["image"] });
            this.containerId = container.id;
            this.startedAt = container.id.apply(() => new Date().toISOString());
        } else {
            const env: Record<string, pulumi.Input<string>> = {
                ...args.env,
                IMAGE_REF: args.imageRef,
                NAME: args.name,
                PORT: pulumi.output(args.port).apply(String),
                APP_HOST: args.appHost,
                HEALTH_PATH: args.healthPath,
                HEALTH_TIMEOUT: pulumi.output(args.healthTimeoutSeconds).apply(String),
                RELEASE_VERSION: args.labels.version,
                RELEASE_GIT_SHA: args.labels.gitSha,
                RELEASE_DIGEST: args.labels.digest,
                APP_ENV_KEYS: Object.keys(args.env).sort().join(" "),
            };
            const cmd = new command.local.Command(`${name}-container`, {
                interpreter: BASH,
                create: switchScript(),
                delete: removeScript(),
                environment: withDockerHost(env, args.dockerHost),
                triggers: args.triggers,
            }, childOpts(this, opts));
            const result = cmd.stdout.apply(out => lastJsonLine<{ containerId: string; startedAt: string }>(out));
            this.containerId = result.containerId;
            this.startedAt = result.startedAt;
        }
        this.registerOutputs({ imageRef: this.imageRef, containerId: this.containerId, startedAt: this.startedAt });
    }
}
