// The benchmark's statistics.
import { expect } from "chai";
import { buckets, longestGap, summarize, p99Between, percentile } from "../../bench/stats";

describe("benchmark statistics", () => {
    it("takes medians of odd and even samples, with min and max", () => {
        expect(summarize([3, 1, 2])).to.deep.equal({ runs: 3, median: 2, min: 1, max: 3 });
        expect(summarize([4, 1, 2, 3])).to.deep.equal({ runs: 4, median: 2.5, min: 1, max: 4 });
        expect(() => summarize([])).to.throw("no samples");
    });

    it("counts answers per 100 ms bucket and drops those after the end", () => {
        const b = buckets([{ t: 10, ok: true }, { t: 150, ok: false }, { t: 199, ok: true }, { t: 250, ok: true }], 200);
        expect(b).to.deep.equal([{ t: 0, ok: 1, failed: 0 }, { t: 100, ok: 1, failed: 1 }]);
    });

    it("finds the longest time without a successful answer, up to the end", () => {
        const samples = [{ t: 100, ok: true }, { t: 200, ok: false }, { t: 900, ok: true }, { t: 950, ok: true }];
        expect(longestGap(samples, 1000)).to.equal(800);
        expect(longestGap(samples, 2000)).to.equal(1050);
        expect(longestGap([], 500)).to.equal(500);
    });

    it("takes the 99th percentile by nearest rank, only of answers sent inside the window", () => {
        const xs = Array.from({ length: 200 }, (_, i) => i + 1);
        expect(percentile(xs, 99)).to.equal(198);
        expect(percentile([5], 99)).to.equal(5);
        expect(Number.isNaN(percentile([], 99))).to.equal(true);
        const samples = [{ t: 10, ok: true, ms: 1 }, { t: 20, ok: true, ms: 2 }, { t: 30, ok: true, ms: 90 }, { t: 40, ok: false }];
        expect(p99Between(samples, 0, 25)).to.equal(2);
        expect(p99Between(samples, 25, 100)).to.equal(90);
    });
});
