// The pure parts of deployctl status and releases: drift lines, the record's view of each service,
// and which rollback modes a release allows.
import { expect } from "chai";
import { usableModes } from "../../cli/releases";
import { driftOf, recordedServices, ServiceStatus } from "../../cli/status";

const D1 = "sha256:" + "1".repeat(64);
const D2 = "sha256:" + "2".repeat(64);

function svc(over: Partial<ServiceStatus>): ServiceStatus {
    return { name: "api", container: "api-9000", version: "v1.1.0", digest: D1, health: "200 v1.1.0", recorded: { version: "v1.1.0", imageRef: `r/api@${D1}` }, ...over };
}

/** One host, as status reads it; maintenance on its proxy as in `m`. */
function one(services: ServiceStatus[], m: { config: string; proxy: string }, name = "local") {
    return { hosts: [{ name, endpoint: "local", address: "127.0.0.1", services, maintenance: m.proxy }], maintenance: m };
}

describe("status drift", () => {
    const none = { config: "off", proxy: "off" };
    it("finds none when every service runs what the record says", () => {
        expect(driftOf(one([svc({})], none))).to.deep.equal([]);
    });
    it("names a service with no container, another version, another digest, or a failing health check", () => {
        expect(driftOf(one([svc({ container: "", version: "", digest: "", health: "no answer" })], none)))
            .to.deep.equal(["service api: no container runs; the record says v1.1.0"]);
        expect(driftOf(one([svc({ version: "v1.0.0" })], none))).to.deep.equal(["service api: api-9000 runs v1.0.0; the record says v1.1.0"]);
        expect(driftOf(one([svc({ digest: D2 })], none))).to.deep.equal([`service api: api-9000 runs digest ${D2}; the record says ${D1}`]);
        expect(driftOf(one([svc({ health: "503 v1.1.0" })], none))).to.deep.equal(["service api: its health check answers 503 v1.1.0"]);
    });
    it("names maintenance that differs from the config, and ignores a stack without a proxy", () => {
        expect(driftOf(one([], { config: "off", proxy: "on" }))).to.deep.equal(["maintenance is on on the proxy; the stack config says off"]);
        expect(driftOf(one([], { config: "off", proxy: "no proxy" }))).to.deep.equal([]);
    });
    it("prefixes each line with its host when the stack has several, and names maintenance per host", () => {
        const a = one([svc({})], none, "a").hosts[0];
        const b = { ...one([svc({ version: "v1.0.0" })], { config: "off", proxy: "on" }, "b").hosts[0] };
        expect(driftOf({ hosts: [a, b], maintenance: none })).to.deep.equal([
            "host b: service api: api-9000 runs v1.0.0; the record says v1.1.0",
            "host b: maintenance is on on the proxy; the stack config says off",
        ]);
    });
    it("reads a listed host's services from the record's hosts, else the bundle's", () => {
        const rec = { version: "v2", services: { api: { version: "v2", imageRef: `r/api@${D1}` } }, hosts: { b: { services: { api: { version: "v1", imageRef: `r/api@${D2}` } } } } };
        expect(recordedServices(rec, ["api"], "b").api.version).to.equal("v1");
        expect(recordedServices(rec, ["api"], "a").api.version).to.equal("v2");
    });
    it("reads a bundle's services from the record, and a single service from the release outputs", () => {
        const bundle = { version: "v2", image: `r/api@${D1}`, services: { api: { version: "v2", imageRef: `r/api@${D1}` }, web: { version: "v2", imageRef: `r/web@${D2}` } } };
        expect(recordedServices(bundle, ["api", "web"]).web).to.deep.equal({ version: "v2", imageRef: `r/web@${D2}` });
        expect(recordedServices({ version: "v1", image: `r/api@${D1}` }, ["api-server"])).to.deep.equal({ "api-server": { version: "v1", imageRef: `r/api@${D1}` } });
    });
});

describe("rollback inventory", () => {
    const img = [{ ref: `r/api@${D1}`, where: "on the host", ok: true }];
    it("allows keep, down and restore for the previous release with its images, its schema and its dump", () => {
        expect(usableModes({ images: img, dump: { path: "/d", state: "ok" }, schemaOk: true }, true)).to.deep.equal(["keep", "down", "restore"]);
    });
    it("drops keep outside the schema range, restore without the dump or for an older release, everything without an image", () => {
        expect(usableModes({ images: img, dump: { path: "/d", state: "ok" }, schemaOk: false }, true)).to.deep.equal(["down", "restore"]);
        expect(usableModes({ images: img, dump: { path: "/d", state: "missing" }, schemaOk: true }, true)).to.deep.equal(["keep", "down"]);
        expect(usableModes({ images: img, dump: { path: "", state: "-" }, schemaOk: true }, false)).to.deep.equal(["keep", "down"]);
        expect(usableModes({ images: [{ ref: "x", where: "gone", ok: false }], dump: { path: "/d", state: "ok" }, schemaOk: true }, true)).to.deep.equal([]);
    });
});
