// The provenance pre-flight's pure parts: which checks, what a label mismatch says, which manifest of an index.
import { expect } from "chai";
import { checkSettingValue } from "../../components/config";
import { labelProblems, overrideOf, pickManifest, provenanceRefusal, requiredChecks, REVISION_LABEL, VERSION_LABEL } from "../../cli/provenance";

describe("provenance pre-flight", () => {
    const sha = "a".repeat(40);
    const claim = { version: "v1.2.0", gitSha: sha, imageRef: "127.0.0.1:5000/acme/api@sha256:" + "b".repeat(64) };

    it("reads the required checks from the provenance setting, and refuses other values naming the key", () => {
        expect(requiredChecks("")).to.deep.equal([]);
        expect(requiredChecks("labels,git")).to.deep.equal(["labels", "git"]);
        expect(checkSettingValue("provenance", "labels,git")).to.equal(undefined);
        expect(checkSettingValue("provenance", "git,git")).to.equal('api-server:provenance "git,git" is invalid: must be empty, labels, git or labels,git');
        expect(checkSettingValue("provenance", "sigstore")).to.include("api-server:provenance \"sigstore\" is invalid");
        expect(checkSettingValue("trunkRef", "main;rm -rf /")).to.include("api-server:trunkRef");
        expect(checkSettingValue("trunkRef", "../../etc")).to.include("api-server:trunkRef");
        expect(checkSettingValue("gitRepo", "relative/path")).to.include("api-server:gitRepo");
    });

    it("passes labels that equal the release, and names both values of each mismatch", () => {
        expect(labelProblems({ [REVISION_LABEL]: sha, [VERSION_LABEL]: "v1.2.0" }, claim)).to.deep.equal([]);
        const other = "c".repeat(40);
        expect(labelProblems({ [REVISION_LABEL]: other, [VERSION_LABEL]: "v1.1.0" }, claim)).to.deep.equal([
            `image ${claim.imageRef} has ${REVISION_LABEL} ${other}, but release:gitSha is ${sha}`,
            `image ${claim.imageRef} has ${VERSION_LABEL} v1.1.0, but release:version is v1.2.0`,
        ]);
        expect(labelProblems({}, claim)[0]).to.equal(`image ${claim.imageRef} has no ${REVISION_LABEL} label, so it cannot be traced to release:gitSha ${sha}`);
    });

    it("picks this platform's manifest from an image index, and none from a single manifest", () => {
        const index = { manifests: [
            { digest: "sha256:arm", platform: { os: "linux", architecture: "arm64" } },
            { digest: "sha256:amd", platform: { os: "linux", architecture: "amd64" } },
        ] };
        expect(pickManifest(index, "x64")).to.equal("sha256:amd");
        expect(pickManifest(index, "arm64")).to.equal("sha256:arm");
        expect(pickManifest(index, "s390x"), "else the first").to.equal("sha256:arm");
        expect(pickManifest({})).to.equal(undefined);
    });

    it("refuses in one line naming every problem and the override, and wants a reason for the override", () => {
        const line = provenanceRefusal("deploy of v1.2.0", ["a", "b"]);
        expect(line).to.equal('deploy of v1.2.0 refused by the provenance check: a; b; nothing was changed. In an emergency, --override-provenance "<reason>" goes ahead and records the reason in the history');
        expect(line).to.not.include("\n");
        expect(overrideOf(undefined)).to.equal(undefined);
        expect(overrideOf("hotfix built by hand, INC-42")).to.equal("hotfix built by hand, INC-42");
        expect(() => overrideOf(" ")).to.throw("--override-provenance needs a reason");
        expect(() => overrideOf("two\nlines")).to.throw("--override-provenance");
    });
});
