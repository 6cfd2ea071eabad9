// Restore drill: a dump restored into a scratch database, its row counts compared with the source's.

/** Row count of one table, keyed "schema.table". */
export type Counts = Record<string, number>;

/** One SQL statement printing "schema.table|count" for every user table (psql -At). */
export const COUNT_ROWS_SQL = "SELECT schemaname || '.' || tablename, " +
    "(xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', schemaname, tablename), false, true, '')))[1]::text " +
    "FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1";

/** Parses psql -At output of COUNT_ROWS_SQL. */
export function parseCounts(out: string): Counts {
    const counts: Counts = {};
    for (const line of out.split("\n")) {
        const m = /^(.+)\|(\d+)$/.exec(line.trim());
        if (m) counts[m[1]] = Number(m[2]);
    }
    return counts;
}

export interface CountRow {
    table: string;
    dump: number | undefined;
    source: number | undefined;
    match: boolean;
}

/** Compares the restored copy with the source, table by table. */
export function compareCounts(restored: Counts, source: Counts): CountRow[] {
    const tables = [...new Set([...Object.keys(restored), ...Object.keys(source)])].sort();
    return tables.map(table => ({ table, dump: restored[table], source: source[table], match: restored[table] === source[table] }));
}

/** A fixed-width report of the comparison. */
export function countsTable(rows: CountRow[]): string {
    const show = (n: number | undefined) => n === undefined ? "missing" : String(n);
    const w = Math.max(5, ...rows.map(r => r.table.length));
    return [`${"table".padEnd(w)}  ${"dump".padStart(10)}  ${"source".padStart(10)}`,
        ...rows.map(r => `${r.table.padEnd(w)}  ${show(r.dump).padStart(10)}  ${show(r.source).padStart(10)}${r.match ? "" : "  differs"}`)].join("\n");
}
