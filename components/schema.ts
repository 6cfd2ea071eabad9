// Schema compatibility: the range of schema versions a release's code runs on
// (expand/contract), and the pure checks built on it. Nothing here touches a
// database; callers pass in what they read.

/** The schema versions a release's code runs on; an end left open is unbounded. */
export interface SchemaRange {
    readonly min?: number;
    readonly max?: number;
}

/** The live schema as the migration tool reports it. */
export interface LiveSchema {
    readonly version: number;
    readonly dirty: boolean;
}

/** True when the release declares no range at all (treated as running on any schema). */
export function isOpen(r: SchemaRange): boolean {
    return r.min === undefined && r.max === undefined;
}

/** Whether schema version `v` is inside the range (an undeclared end is unbounded). */
export function inRange(v: number, r: SchemaRange): boolean {
    return (r.min === undefined || v >= r.min) && (r.max === undefined || v <= r.max);
}

/** The range for people: "1..3", "2..", "..4" or "any". */
export function showRange(r: SchemaRange): string {
    return isOpen(r) ? "any" : `${r.min ?? ""}..${r.max ?? ""}`;
}

/** Reads a range from raw `release:schemaMin` / `release:schemaMax` values ("" or undefined: open). */
export function rangeOf(min: string | undefined, max: string | undefined): SchemaRange {
    const n = (s: string | undefined) => (s === undefined || s === "" ? undefined : Number(s));
    return { min: n(min), max: n(max) };
}

/**
 * The schema a release would run on after its own migrations in keep mode:
 * migrations move the schema up to the target, and a schema ahead of the
 * target is kept (expand/contract).
 */
export function schemaAfterKeep(live: number, target: number): number {
    return Math.max(live, target);
}

/** Parses the migration tool's `version` answer, "<n> <dirty>". */
export function parseVersionLine(line: string): LiveSchema | undefined {
    const m = /^(\d+) (true|false)$/.exec(line.trim());
    return m ? { version: Number(m[1]), dirty: m[2] === "true" } : undefined;
}

/**
 * The refusal for an app-only (keep) rollback onto a schema outside the
 * target's range, or undefined when it may go ahead. One line, naming what
 * --db down and --db restore would do instead.
 */
export function keepRollbackProblem(target: { version: string; schemaVersion: number; range: SchemaRange },
    live: LiveSchema, current: { version: string }): string | undefined {
    if (inRange(live.version, target.range)) return undefined;
    return `${target.version} runs on schema ${showRange(target.range)}, but the database is at schema ${live.version}, so an app-only rollback (--db keep) would leave it on a schema it cannot use; nothing was changed. ` +
        `Use --db down to run ${current.version}'s down migrations to schema ${target.schemaVersion} first (keeps the data), ` +
        `or --db restore to restore the dump taken before ${current.version} (discards writes since)`;
}

/** The refusal for a deploy whose range excludes the schema it would run on, or undefined. */
export function deployRangeProblem(release: { version: string; schemaVersion: number; range: SchemaRange }, live: LiveSchema): string | undefined {
    const after = schemaAfterKeep(live.version, release.schemaVersion);
    if (inRange(after, release.range)) return undefined;
    return `${release.version} runs on schema ${showRange(release.range)}, but the database is at schema ${live.version}` +
        (after !== live.version ? ` and would be at ${after} after its migrations` : " and a schema ahead of the target is kept") +
        `; nothing was changed. Deploy a release whose range includes ${after}, or roll back with --db down or --db restore`;
}

/**
 * The refusal for a dirty schema (a migration failed halfway), with the exact
 * recovery. golang-migrate runs each file in one transaction, so PostgreSQL
 * rolled the failed file back: the tables are as at the version before it.
 */
export function dirtyProblem(live: LiveSchema, stack: string, serving: string | undefined): string {
    const clean = Math.max(0, live.version - 1);
    return `the database is dirty at schema ${live.version}: migration ${live.version} failed halfway (its transaction was rolled back, so the tables are as at schema ${clean})` +
        `${serving ? `; ${serving} still serves` : ""}. Check the schema, then mark it clean with: deployctl force-schema ${clean} --stack ${stack} --yes, and run this command again`;
}

/** One migration file name: NNN_name.up.sql / NNN_name.down.sql. */
const MIGRATION_RE = /^(\d+)_.+\.(up|down)\.sql$/;

/** Versions of up-migrations in a list of file names that have no down file, sorted. */
export function upsWithoutDown(files: string[]): number[] {
    const ups = new Set<number>(), downs = new Set<number>();
    for (const f of files) {
        const m = MIGRATION_RE.exec(f.split("/").pop() ?? "");
        if (m) (m[2] === "up" ? ups : downs).add(Number(m[1]));
    }
    return [...ups].filter(v => !downs.has(v)).sort((a, b) => a - b);
}

/** The schema version a release migrates to: its highest up-migration (0 when it carries none). */
export function highestMigration(files: string[]): number {
    return files.reduce((max, f) => {
        const m = MIGRATION_RE.exec(f.split("/").pop() ?? "");
        return m && m[2] === "up" ? Math.max(max, Number(m[1])) : max;
    }, 0);
}

/** The down files a down-migration from `from` to `to` needs that are missing: versions in (to, from]. */
export function missingDownsFor(files: string[], from: number, to: number): number[] {
    return upsWithoutDown(files).filter(v => v > to && v <= from);
}
