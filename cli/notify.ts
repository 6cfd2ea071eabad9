// Notifications to the ops channel (runbook 003 §2 and §6): a webhook that
// receives Slack-compatible JSON when a deploy or rollback starts, succeeds or
// fails, and when maintenance is switched. The URL carries the channel's token,
// so it is a secret setting (api-server:webhookUrl).
//
// A webhook never fails or holds up an update: notices are posted in the
// background, in order, each with a timeout; one that cannot be delivered is
// logged and dropped. The command waits for the last notice (at most the
// timeout) before it prints its own last line, so that line stays last.
import { ConfigMap } from "./pulumiCli";
import { WEBHOOK_IN_PLAIN_TEXT } from "../components/config";
import { pj, UsageError } from "./common";

/** What happened: deploy.started, rollback.failed, maintenance.on, .... */
export type NoticeEvent = `${"deploy" | "rollback"}.${"started" | "succeeded" | "failed"}` | "maintenance.on" | "maintenance.off";

/** One notice: the event, the release it concerns and, when known, its hashes and the failing step. */
export interface Notice {
    event: NoticeEvent;
    stack: string;
    version: string;
    /** Each service's image, service → repo@sha256:.... */
    images: Record<string, string>;
    /** The release record's hashes after a success: the dump and the release bundle. */
    hashes?: { backup?: string; artifact?: string };
    /** On failure: the step that failed (backup, migrations, container, smoke, ...) and the last line. */
    step?: string;
    message?: string;
}

/** Seconds a notice may take before it is given up. */
export const NOTICE_TIMEOUT_MS = 5000;

const COLOR: Record<string, string> = { started: "#439FE0", succeeded: "good", failed: "danger", on: "warning", off: "good" };

/** The one-line summary of a notice. */
export function noticeText(n: Notice): string {
    const [what, how] = n.event.split(".");
    if (what === "maintenance") return `maintenance ${how} on ${n.stack}; ${n.version} serves behind it`;
    const head = `${what} of ${n.version} on ${n.stack} ${how}`;
    return how === "failed" ? `${head} at ${n.step ?? "engine"}: ${n.message ?? ""}` : head;
}

/** The Slack-compatible payload of a notice: text plus one attachment with a field per fact. */
export function slackPayload(n: Notice, now = new Date()): { text: string; attachments: Record<string, unknown>[] } {
    const text = noticeText(n);
    const field = (title: string, value: string, short = true) => ({ title, value, short });
    const fields = [
        field("event", n.event), field("stack", n.stack), field("version", n.version),
        ...Object.entries(n.images).map(([svc, ref]) => field(`image ${svc}`, ref, false)),
        ...(n.hashes?.backup ? [field("backup sha256", n.hashes.backup, false)] : []),
        ...(n.hashes?.artifact ? [field("release bundle sha256", n.hashes.artifact, false)] : []),
        ...(n.step ? [field("failed step", n.step)] : []),
        ...(n.message ? [field("last line", n.message, false)] : []),
    ];
    return {
        text,
        attachments: [{ fallback: text, color: COLOR[n.event.split(".")[1]], fields, footer: "deployctl", ts: Math.floor(now.getTime() / 1000) }],
    };
}

/** The webhook URL of a stack's config; "" when none. Refuses a URL not stored as a secret, or not http(s). */
export function webhookOf(cfg: ConfigMap): string {
    const key = pj("webhookUrl");
    const entry = cfg[key];
    if (entry === undefined || entry.value === "") return "";
    if (!entry.secret) {
        throw new UsageError(`${WEBHOOK_IN_PLAIN_TEXT}; nothing was changed`);
    }
    if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(entry.value)) {
        throw new UsageError(`${key} (a secret starting ${JSON.stringify(entry.value.slice(0, 8))}) is invalid: must be an http:// or https:// URL without spaces; nothing was changed`);
    }
    return entry.value;
}

/** Posts notices in order, in the background; never throws. */
export class Notifier {
    private chain: Promise<void> = Promise.resolve();

    constructor(private readonly url: string, private readonly log: (line: string) => void = l => console.log(l)) {}

    /** Queues a notice (or a notice still to be worked out, like the hashes after an update). */
    send(notice: Notice | (() => Promise<Notice>)): void {
        if (this.url === "") return;
        this.chain = this.chain.then(async () => {
            let event = typeof notice === "function" ? "notice" : notice.event;
            try {
                const n = typeof notice === "function" ? await notice() : notice;
                event = n.event;
                const r = await fetch(this.url, {
                    method: "POST", headers: { "content-type": "application/json" },
                    body: JSON.stringify(slackPayload(n)), signal: AbortSignal.timeout(NOTICE_TIMEOUT_MS),
                });
                if (!r.ok) throw new Error(`HTTP ${r.status}`);
            } catch (err) {
                const e = err as Error & { cause?: Error };
                const why = e.name === "TimeoutError" ? `no answer within ${NOTICE_TIMEOUT_MS / 1000}s` : e.cause?.message ?? e.message;
                this.log(`deployctl: webhook: ${event} was not delivered (${why}); the update is not affected`);
            }
        });
    }

    /** Waits until every queued notice is delivered or given up. */
    flush(): Promise<void> {
        return this.chain;
    }
}

/** Every service's image in a release: the migration owner's (release:image@imageDigest) and release:images. */
export function releaseImages(services: string, appName: string, imageRef: string, imagesJson: string | undefined): Record<string, string> {
    let owner = appName;
    try {
        const list = JSON.parse(services || "null") as { name?: string; migrations?: boolean }[] | null;
        const found = Array.isArray(list) ? list.find(x => x?.migrations === true) : undefined;
        if (found?.name) owner = found.name;
    } catch {
        // The program refuses a malformed list; the notice names the image under appName.
    }
    let others: Record<string, string> = {};
    try {
        others = JSON.parse(imagesJson || "{}") as Record<string, string>;
    } catch {
        others = {};
    }
    return { [owner]: imageRef, ...others };
}
