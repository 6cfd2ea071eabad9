// deployctl releases: the rollback inventory. Every release in the stack's history that a
// rollback can target, and for each whether it can be used right now: its images still on the
// host or in the registry (checked without pulling), its pre-release dump present with the
// checksum its record names, and the live schema inside its range.
import * as fs from "fs";
import { LiveSchema, inRange, rangeOf, showRange } from "../components/schema";
import { releaseConfigOf, successfulReleases, UpdateLike } from "./history";
import { dockerEnvOf, run, sha256File, StackSettings } from "./live";
import { inRegistry } from "./registry";

/** One rollback target and what a rollback to it can use now. */
export interface ReleaseRow {
    version: string;
    update: number;
    time: string;
    /** Each image of the release: where it is ("on the host", "in the registry") or why it cannot be pulled. */
    images: { ref: string; where: string; ok: boolean }[];
    /**
     * For the release just before the current one, the dump a restore rollback to it restores (the
     * current release's pre-release dump): "ok", "missing", "checksum differs", "unknown"; "-" for
     * the others (a restore goes back one release only).
     */
    dump: { path: string; state: string };
    range: string;
    /** Whether the live schema is inside the release's range (an app-only rollback works). */
    schemaOk: boolean | undefined;
    /** The rollback modes that can be used now. */
    usable: string[];
}

/** The modes a row allows: keep (images and schema), down (images), restore (images and dump, newest target only). */
export function usableModes(row: Pick<ReleaseRow, "images" | "dump" | "schemaOk">, previous: boolean): string[] {
    if (!row.images.every(i => i.ok)) return [];
    const modes: string[] = [];
    if (row.schemaOk !== false) modes.push("keep");
    modes.push("down");
    if (previous && row.dump.state === "ok") modes.push("restore");
    return modes;
}

/** The state of the dump a restore rollback would restore: the current record's pre-release backup. */
export function dumpState(backup: { path: string; sha256: string; kind: string } | undefined): { path: string; state: string } {
    if (!backup) return { path: "", state: "unknown" };
    if (backup.kind === "none") return { path: "", state: "none: the current release was put in place by an app-only rollback, which took no dump" };
    if (backup.kind !== "pre_release") return { path: backup.path, state: "none: the current release was put in place by a restore" };
    if (!fs.existsSync(backup.path)) return { path: backup.path, state: "missing" };
    return { path: backup.path, state: sha256File(backup.path) === backup.sha256 ? "ok" : "checksum differs" };
}

/**
 * The inventory, newest first: every release but the current one. `backup`
 * is the current release record's backup (what a restore rollback restores).
 */
export async function releaseInventory(updates: UpdateLike[], settings: StackSettings, live: LiveSchema | undefined,
    backup: { path: string; sha256: string; kind: string } | undefined, current: string | undefined): Promise<ReleaseRow[]> {
    const env = dockerEnvOf(settings);
    const rows: ReleaseRow[] = [];
    const seen = new Set<string>();
    const all = successfulReleases(updates);
    const previous = all.find(r => r.version !== current)?.version;
    for (const r of all) {
        if (seen.has(r.version) || r.version === current) continue;
        seen.add(r.version);
        const rel = releaseConfigOf(updates, r.update);
        const refs = [`${rel.image}@${rel.imageDigest}`, ...Object.values(JSON.parse(rel.images || "{}") as Record<string, string>)];
        const images: ReleaseRow["images"] = [];
        for (const ref of refs) {
            const local = await run("docker", ["image", "inspect", "--format", "{{.Id}}", ref], env);
            if (local.code === 0) images.push({ ref, where: "on the host", ok: true });
            else if (await inRegistry(ref)) images.push({ ref, where: "in the registry", ok: true });
            else images.push({ ref, where: "neither on the host nor in its registry", ok: false });
        }
        const dump = r.version === previous ? dumpState(backup) : { path: "", state: "-" };
        const range = rangeOf(rel.schemaMin, rel.schemaMax);
        const schemaOk = live ? inRange(live.version, range) : undefined;
        const row = { version: r.version, update: r.update, time: r.time, images, dump, range: showRange(range), schemaOk, usable: [] as string[] };
        row.usable = usableModes(row, r.version === previous);
        rows.push(row);
    }
    return rows;
}

/** The inventory for people. */
export function releasesText(rows: ReleaseRow[], live: LiveSchema | undefined): string {
    if (rows.length === 0) return "no rollback target: the stack's history has no other successful release";
    const head = ["version", "update", "images", "pre-release dump", `runs on (live ${live ? live.version : "?"})`, "rollback now"];
    const body = rows.map(r => [
        r.version, `#${r.update}`,
        r.images.every(i => i.ok) ? (r.images.every(i => i.where === "on the host") ? "on the host" : "pullable") : `MISSING ${r.images.filter(i => !i.ok).map(i => i.ref).join(" ")}`,
        r.dump.state === "ok" ? "present, checksum ok" : r.dump.state,
        `${r.range}${r.schemaOk === false ? " (outside)" : ""}`,
        r.usable.length ? `--db ${r.usable.join("|")}` : "no: image missing",
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map(b => b[i].length)));
    const fmt = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
    return [fmt(head), fmt(widths.map(w => "-".repeat(w))), ...body.map(fmt)].join("\n");
}
