// The release record: stack outputs (machine-readable) and releases/<version>.md (for people).

/** One service of a bundle, as it runs after the update. */
export interface ServiceRecord {
    version: string;
    imageRef: string;
    container: string;
    startedAt: string;
    publicPort?: number;
    port?: number;
}

/** A host of a stack that lists hosts: where it is, and what each service runs on it. */
export interface HostRecord {
    endpoint: string;
    address: string;
    services: Record<string, ServiceRecord>;
}

/** The stack outputs every deploy and rollback writes. */
export interface ReleaseRecord {
    version: string;
    gitSha: string;
    gitTag: string;
    image: string;
    imageRef: string;
    imageDigest: string;
    schemaVersion: number;
    /** The schema versions the release runs on ("1..3", or "any"). */
    schemaRange: string;
    /** The schema the database had after the update, as the smoke test read it. */
    liveSchema: { version: number; dirty: boolean };
    notes: string;
    /** The dump this update took: pre_release (before migrations) or safety_before_restore. */
    backup: { path: string; sha256: string; bytes: number; kind: string };
    /** Why the provenance pre-flight was overridden for this update, when it was. */
    provenanceOverride?: string;
    /** For a restore-mode rollback: the dump restored. */
    restoredDump?: { path: string; sha256: string };
    /** A bundle's services, in the order they switched. */
    services?: Record<string, ServiceRecord>;
    /** Per host, in switch order (a stack that lists hosts). */
    hosts?: Record<string, HostRecord>;
    batchSize?: string;
    /** The release bundle (config without secrets, this record, images, migration files), beside the dumps. */
    artifact?: { path: string; sha256: string; bytes: number; error?: string };
    deployedAt: string;
    kind: "deploy" | "rollback";
    replacesVersion: string;
    dbMode: string;
}

/** Renders releases/<version>.md with every field the playbook requires. */
export function renderReleaseMarkdown(r: ReleaseRecord, history: { kind: string; time: string; result: string; liveSchema?: string }[] = []): string {
    const lines = [
        `# Release ${r.version}`,
        "",
        "| field | value |",
        "|---|---|",
        `| git tag | \`${r.gitTag}\` |`,
        `| commit SHA | \`${r.gitSha}\` |`,
        `| image tag | \`${r.image}:${r.version}\` (for people; never deployed by tag) |`,
        `| image digest | \`${r.imageDigest}\` |`,
        `| deployed image | \`${r.imageRef}\` |`,
        `| schema version (target) | ${r.schemaVersion} |`,
        `| schema range the code runs on | ${r.schemaRange ?? "any"} |`,
        `| live schema after the update | ${r.liveSchema ? `${r.liveSchema.version}${r.liveSchema.dirty ? " (dirty)" : " (clean)"}` : "unknown"} |`,
        ...(r.backup.kind === "none"
            ? ["| backup | none: an app-only rollback that changed no schema takes no dump; the newest earlier dump is the recovery point |"]
            : [
                `| ${r.backup.kind === "safety_before_restore" ? "safety backup (data discarded by the restore)" : "pre-release backup"} | \`${r.backup.path}\` |`,
                `| backup sha256 | \`${r.backup.sha256}\` |`,
                `| backup size | ${r.backup.bytes} bytes |`,
            ]),
        ...Object.entries(r.services ?? {}).map(([name, svc]) => `| service ${name} | \`${svc.imageRef}\` in \`${svc.container}\` |`),
        ...(r.artifact ? [r.artifact.error
            ? `| release bundle | **not written**: ${r.artifact.error} |`
            : `| release bundle | \`${r.artifact.path}\` (sha256 \`${r.artifact.sha256}\`, also in SHA256SUMS) |`] : []),
        ...(r.restoredDump ? [`| restored dump | \`${r.restoredDump.path}\` (sha256 \`${r.restoredDump.sha256}\`) |`] : []),
        `| deployed at | ${r.deployedAt} |`,
        `| kind | ${r.kind}${r.kind === "rollback" ? ` (replaced ${r.replacesVersion}, database ${r.dbMode})` : ""} |`,
        ...(r.provenanceOverride ? [`| provenance | **check overridden**: ${r.provenanceOverride} |`] : []),
        "",
        "## Notes (migrate, env, feature flags)",
        "",
        r.notes.trim() === "" ? "_none recorded_" : r.notes.trim(),
        "",
    ];
    if (history.length > 0) {
        lines.push("## Updates of this version", "", "| time | kind | result | live schema after |", "|---|---|---|---|");
        for (const h of history) lines.push(`| ${h.time} | ${h.kind} | ${h.result} | ${h.liveSchema || "-"} |`);
        lines.push("");
    }
    return lines.join("\n");
}
