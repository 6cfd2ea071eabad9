// When deployctl colours its output: the engine's progress and the red failure line.
import { expect } from "chai";
import { colourOn, red } from "../../cli/output";

describe("colour only on a TTY", () => {
    it("is on for a TTY and off otherwise", () => {
        expect(colourOn(true, {})).to.equal(true);
        expect(colourOn(false, {})).to.equal(false);
        expect(colourOn(undefined, {})).to.equal(false);
    });

    it("is off when NO_COLOR is set to any non-empty value, even on a TTY", () => {
        expect(colourOn(true, { NO_COLOR: "1" })).to.equal(false);
        expect(colourOn(true, { NO_COLOR: "0" })).to.equal(false);
        expect(colourOn(true, { NO_COLOR: "yes" })).to.equal(false);
    });

    it("ignores an empty NO_COLOR", () => {
        expect(colourOn(true, { NO_COLOR: "" })).to.equal(true);
        expect(colourOn(false, { NO_COLOR: "" })).to.equal(false);
    });

    it("is forced on by FORCE_COLOR set to a value other than 0, even piped or with NO_COLOR", () => {
        expect(colourOn(false, { FORCE_COLOR: "1" })).to.equal(true);
        expect(colourOn(undefined, { FORCE_COLOR: "3" })).to.equal(true);
        expect(colourOn(false, { FORCE_COLOR: "true" })).to.equal(true);
        expect(colourOn(false, { FORCE_COLOR: "1", NO_COLOR: "1" })).to.equal(true);
    });

    it("is not forced by FORCE_COLOR=0 or an empty FORCE_COLOR: the other rules decide", () => {
        expect(colourOn(false, { FORCE_COLOR: "0" })).to.equal(false);
        expect(colourOn(true, { FORCE_COLOR: "0" })).to.equal(true);
        expect(colourOn(true, { FORCE_COLOR: "0", NO_COLOR: "1" })).to.equal(false);
        expect(colourOn(false, { FORCE_COLOR: "" })).to.equal(false);
    });

    it("paints red with ANSI 31 only when on", () => {
        expect(red("deployctl: failed", true)).to.equal("\u001b[31mdeployctl: failed\u001b[0m");
        expect(red("deployctl: failed", false)).to.equal("deployctl: failed");
    });
});
