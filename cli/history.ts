// Stack history as the release record: rows for people and the rollback target selection.
import { RELEASE_KEYS, RELEASE_NS, PROJECT } from "../components/config";

/** One update in stack history, as the Automation API reports it (the fields used here). */
export interface UpdateLike {
    version: number;
    kind: string;
    result: string;
    startTime: string | Date;
    config?: Record<string, { value?: string; secret?: boolean }>;
}

/** One row of `deployctl history`. */
export interface HistoryRow {
    update: number;
    time: string;
    operation: string;
    result: string;
    kind: string;
    version: string;
    gitSha: string;
    image: string;
    imageDigest: string;
    schemaVersion: string;
    /** The schema versions the release runs on ("1..3", "any"). */
    schemaRange: string;
    /** The schema the database had after the update ("3", "3 (dirty)"), when known. */
    liveSchema: string;
    replacesVersion: string;
    dbMode: string;
    /** Set when the update was atomic and this row is the recovery of a failed one. */
    atomicRecoveryOf: string;
    /** The proxy's maintenance page after the update: on or off. */
    maintenance: string;
    /** Why the provenance pre-flight was overridden for this update; empty when it was not. */
    provenanceOverride: string;
}

function cfg(u: UpdateLike, key: string): string {
    return u.config?.[key]?.value ?? "";
}

/**
 * Numbers updates, newest first. The self-managed (file://, s3://) backends
 * report version 0 for every update, so the number is then the position in
 * time: 1 for the oldest update.
 */
export function numbered(updates: UpdateLike[]): { seq: number; u: UpdateLike }[] {
    const sorted = updates
        .map((u, i) => ({ u, i }))
        .sort((a, b) => (b.u.version - a.u.version) || (new Date(b.u.startTime).getTime() - new Date(a.u.startTime).getTime()) || (a.i - b.i))
        .map(x => x.u);
    const real = sorted.every(u => u.version > 0);
    return sorted.map((u, i) => ({ seq: real ? u.version : sorted.length - i, u }));
}

/** Turns history (any order) into rows, newest first. */
export function historyRows(updates: UpdateLike[]): HistoryRow[] {
    return numbered(updates)
        .map(({ seq, u }) => ({
            update: seq,
            time: new Date(u.startTime).toISOString(),
            operation: u.kind,
            result: u.result,
            kind: cfg(u, `${PROJECT}:kind`) || "deploy",
            version: cfg(u, `${RELEASE_NS}:version`),
            gitSha: cfg(u, `${RELEASE_NS}:gitSha`),
            image: cfg(u, `${RELEASE_NS}:image`),
            imageDigest: cfg(u, `${RELEASE_NS}:imageDigest`),
            schemaVersion: cfg(u, `${RELEASE_NS}:schemaVersion`),
            schemaRange: rangeText(cfg(u, `${RELEASE_NS}:schemaMin`), cfg(u, `${RELEASE_NS}:schemaMax`)),
            liveSchema: "",
            atomicRecoveryOf: cfg(u, `${PROJECT}:atomicRecoveryOf`),
            replacesVersion: cfg(u, `${PROJECT}:replacesVersion`),
            dbMode: cfg(u, `${PROJECT}:dbMode`) || "keep",
            maintenance: cfg(u, `${PROJECT}:maintenance`) || "off",
            provenanceOverride: cfg(u, `${PROJECT}:provenanceOverride`),
        }));
}

function rangeText(min: string, max: string): string {
    return min === "" && max === "" ? "any" : `${min}..${max}`;
}

/** Successful `pulumi up`s that carried a release, newest first. */
export function successfulReleases(updates: UpdateLike[]): HistoryRow[] {
    return historyRows(updates).filter(r => r.operation === "update" && r.result === "succeeded" && r.version !== "");
}

/** The release running now: the newest successful update's version. */
export function currentRelease(updates: UpdateLike[]): HistoryRow | undefined {
    return successfulReleases(updates)[0];
}

/** Thrown when a rollback must not start; the message is one line. */
export class RefusedError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "RefusedError";
    }
}

/** The release config (`release:*` keys) recorded with an update. */
export function releaseConfigOf(updates: UpdateLike[], update: number): Record<string, string> {
    const u = numbered(updates).find(x => x.seq === update)?.u;
    const out: Record<string, string> = {};
    for (const k of RELEASE_KEYS) {
        const v = u?.config?.[`${RELEASE_NS}:${k}`]?.value;
        if (v !== undefined) out[k] = v;
    }
    return out;
}

/**
 * Picks the update to roll back to: the newest successful update whose
 * release:version is the target (or, for "previous", the release before the
 * one that serves). Refuses unknown targets and the release already running.
 *
 * After a failed update, "previous" never silently moves off what serves:
 * - if the failed release had switched (`serving` is it), "previous" is the
 *   release that served before the failed attempt, and rolling back to it
 *   converges the stack;
 * - if it failed before any switch, the release before it still serves and
 *   "previous" is refused, naming it; an older release must be named.
 */
export function selectRollbackTarget(updates: UpdateLike[], target: string, serving?: string): HistoryRow {
    const releases = successfulReleases(updates);
    const current = releases[0];
    if (!current) throw new RefusedError("nothing to roll back: the stack has no successful release in its history");
    const newest = historyRows(updates).find(r => r.operation === "update");
    const lastFailed = newest && newest.result !== "succeeded" ? newest : undefined;
    const candidates = releases.filter(r => r.version !== current.version);
    const known = [...new Set(candidates.map(r => r.version))];
    const targets = `rollback targets: ${known.join(", ") || "none"}`;
    const drifted = serving !== undefined && serving !== current.version;
    if (drifted && (target === "previous" || target === current.version)) {
        // The newest update switched to a release it did not finish (or someone changed the service by hand).
        return current;
    }
    if (target === "previous") {
        if (lastFailed) {
            throw new RefusedError(`the last update (${lastFailed.kind} ${lastFailed.version || "?"}) failed before it switched, so ${current.version}, the release before it, still serves; nothing to roll back. To go further back, name the version (${targets})`);
        }
        const found = candidates[0];
        if (!found) throw new RefusedError(`no previous release: ${current.version} is the only release in this stack's history`);
        return found;
    }
    if (target === current.version) {
        throw new RefusedError(`${target} is the release running now; ${targets}`);
    }
    const found = candidates.find(r => r.version === target);
    if (!found) {
        throw new RefusedError(`${target} is not a successful release in this stack's history; ${targets}`);
    }
    return found;
}

/** Renders rows as a fixed-width table. */
export function historyTable(rows: HistoryRow[]): string {
    const head = ["#", "time (UTC)", "kind", "result", "version", "digest", "git sha", "schema target", "runs on", "live schema after"];
    const body = rows.map(r => [
        String(r.update),
        r.time.replace("T", " ").replace(/\.\d+Z$|Z$/, ""),
        r.operation === "update"
            ? r.kind + (r.kind === "rollback" ? ` (from ${r.replacesVersion}, db ${r.dbMode}${r.atomicRecoveryOf ? ", atomic" : ""})` : "") + (r.maintenance === "on" ? " +maintenance" : "") + (r.provenanceOverride ? " +provenance-override" : "")
            : r.operation,
        r.result,
        r.version || "-",
        r.imageDigest ? r.imageDigest.slice(0, 19) : "-",
        r.gitSha ? r.gitSha.slice(0, 12) : "-",
        r.schemaVersion || "-",
        r.version ? r.schemaRange : "-",
        r.liveSchema || "-",
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map(b => b[i].length)));
    const fmt = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
    return [fmt(head), fmt(widths.map(w => "-".repeat(w))), ...body.map(fmt)].join("\n");
}
