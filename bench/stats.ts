// Pure statistics for the benchmark: medians, ratios, request timelines.

export interface Summary {
    runs: number;
    median: number;
    min: number;
    max: number;
}

export function summarize(xs: number[]): Summary {
    if (xs.length === 0) throw new Error("no samples");
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
    return { runs: s.length, median, min: s[0], max: s[s.length - 1] };
}

/** One request's outcome at a time (ms since the timeline's start). */
export interface Sample {
    t: number;
    ok: boolean;
    /** Its latency, ms (when known). */
    ms?: number;
}

export interface Bucket {
    t: number;
    ok: number;
    failed: number;
}

/** Successful and failed requests per bucket of `width` ms, from 0 to `end`. */
export function buckets(samples: Sample[], end: number, width = 100): Bucket[] {
    const n = Math.max(1, Math.ceil(end / width));
    const out: Bucket[] = Array.from({ length: n }, (_, i) => ({ t: i * width, ok: 0, failed: 0 }));
    for (const s of samples) {
        const i = Math.floor(s.t / width);
        if (i < 0 || i >= n) continue; // answers that arrive after the end are not part of the timeline
        if (s.ok) out[i].ok++; else out[i].failed++;
    }
    return out;
}

/** The longest time between two successful answers (including from start and to end). */
export function longestGap(samples: Sample[], end: number): number {
    const oks = samples.filter(s => s.ok).map(s => s.t).sort((a, b) => a - b);
    let gap = 0, last = 0;
    for (const t of oks) {
        gap = Math.max(gap, t - last);
        last = t;
    }
    return Math.max(gap, end - last);
}

/** The p-th percentile (0-100) of xs by nearest rank; NaN when empty. */
export function percentile(xs: number[], p: number): number {
    if (xs.length === 0) return NaN;
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100 * s.length) - 1))];
}

/** The 99th percentile latency of the answers sent in [from, to) ms. */
export function p99Between(samples: Sample[], from: number, to: number): number {
    return percentile(samples.filter(x => x.t >= from && x.t < to && x.ms !== undefined).map(x => x.ms!), 99);
}
