// Reads the README's config error table, so that every documented message is tested.
import * as fs from "fs";
import * as path from "path";

export interface ErrorRow {
    key: string;
    value: string;
    message: string;
}

/** Rows of the table under "### Config errors" in README.md: | `key` | `value` | message |. */
export function readmeErrorRows(readme = path.resolve(__dirname, "..", "..", "..", "README.md")): ErrorRow[] {
    const text = fs.readFileSync(readme, "utf8");
    const start = text.indexOf("### Config errors");
    if (start < 0) throw new Error("README.md has no '### Config errors' section");
    const rows: ErrorRow[] = [];
    for (const line of text.slice(start).split("\n").slice(1)) {
        if (line.startsWith("#")) break;
        const m = /^\|\s*`([^`]+)`\s*\|\s*`([^`]*)`\s*\|\s*(.+?)\s*\|$/.exec(line.trim());
        if (m) rows.push({ key: m[1], value: m[2], message: m[3].replace(/\\\|/g, "|") });
    }
    return rows;
}
