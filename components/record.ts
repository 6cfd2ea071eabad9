// The release record: stack outputs (machine-readable) and releases/<version>.md (for people).

/** The stack outputs every deploy and rollback writes. */
export interface ReleaseRecord {
    version: string;
    gitSha: string;
    gitTag: string;
    image: string;
    imageRef: string;
    imageDigest: string;
    schemaVersion: number;
    notes: string;
    backup: { path: string; sha256: string; bytes: number };
    deployedAt: string;
    kind: "deploy" | "rollback";
    replacesVersion: string;
    dbMode: string;
}

/** Renders releases/<version>.md with every field the playbook requires. */
export function renderReleaseMarkdown(r: ReleaseRecord, history: { kind: string; time: string; result: string }[] = []): string {
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
        `| schema version | ${r.schemaVersion} |`,
        `| pre-release backup | \`${r.backup.path}\` |`,
        `| backup sha256 | \`${r.backup.sha256}\` |`,
        `| backup size | ${r.backup.bytes} bytes |`,
        `| deployed at | ${r.deployedAt} |`,
        `| kind | ${r.kind}${r.kind === "rollback" ? ` (replaced ${r.replacesVersion}, database ${r.dbMode})` : ""} |`,
        "",
        "## Notes (migrate, env, feature flags)",
        "",
        r.notes.trim() === "" ? "_none recorded_" : r.notes.trim(),
        "",
    ];
    if (history.length > 0) {
        lines.push("## Updates of this version", "", "| time | kind | result |", "|---|---|---|");
        for (const h of history) lines.push(`| ${h.time} | ${h.kind} | ${h.result} |`);
        lines.push("");
    }
    return lines.join("\n");
}
