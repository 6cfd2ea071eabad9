// Timing and checking helpers shared by the bench's cases.

/** Milliseconds from a monotonic clock. */
export const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Seconds one step takes. */
export async function timed(fn: () => unknown): Promise<number> {
    const t = now();
    await fn();
    return (now() - t) / 1000;
}

/** Throws with the command's output when it failed; returns it otherwise. */
export function must<R extends { code: number; stdout: string; stderr: string }>(r: R, what: string): R {
    if (r.code !== 0) throw new Error(`${what} failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    return r;
}
