// The release bundle: services, their images pinned by digest, their ports, each bad value named.
import { expect } from "chai";
import { ConfigError, parseDeployConfig, releaseIdentity } from "../../components/config";
import { parseImages, parseServices, BundleContext } from "../../components/services";

const DIGEST_A = "sha256:" + "a".repeat(64);
const DIGEST_B = "sha256:" + "b".repeat(64);
const GOOD: Record<string, string> = {
    "release:version": "v2.1.0",
    "release:gitSha": "0123456789abcdef0123456789abcdef01234567",
    "release:image": "127.0.0.1:5000/acme/api",
    "release:imageDigest": DIGEST_A,
    "release:schemaVersion": "3",
    "release:images": JSON.stringify({ web: `127.0.0.1:5000/acme/web@${DIGEST_B}` }),
    "api-server:proxyPort": "8443",
    "api-server:proxyImage": `127.0.0.1:5000/acme/proxy@${DIGEST_A}`,
};
const BUNDLE = [
    { name: "api", port: 9000, migrations: true, critical: [{ path: "/items", status: 200 }] },
    { name: "web", port: 9010, publicPort: 8444, healthPath: "/up", env: { MODE: "web" } },
];

function problems(values: Record<string, string>, services: unknown): string[] {
    try {
        parseDeployConfig({ get: (ns, key) => values[`${ns}:${key}`] }, undefined, undefined, services);
    } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        return (err as ConfigError).problems;
    }
    return [];
}

describe("release bundles", () => {
    it("reads the services in switch order, each pinned by digest, the owner of migrations on release:image", () => {
        const { release, settings } = parseDeployConfig({ get: (ns, key) => GOOD[`${ns}:${key}`] }, undefined, undefined, BUNDLE);
        expect(settings.bundle).to.equal(true);
        expect(settings.services.map(x => x.name)).to.deep.equal(["api", "web"]);
        const [api, web] = settings.services;
        expect(api).to.include({ container: "api-server-api", port: 9000, publicPort: 8443, healthPath: "/health", migrations: true, imageRef: `127.0.0.1:5000/acme/api@${DIGEST_A}` });
        expect(api.critical).to.deep.equal([{ path: "/items", status: 200 }]);
        expect(web).to.include({ container: "api-server-web", port: 9010, publicPort: 8444, healthPath: "/up", migrations: false, imageRef: `127.0.0.1:5000/acme/web@${DIGEST_B}` });
        expect(web.env).to.deep.equal({ MODE: "web" });
        expect(release.images).to.deep.equal({ web: `127.0.0.1:5000/acme/web@${DIGEST_B}` });
        // The other services' images are part of the release identity.
        expect(releaseIdentity(release)).to.include(`web=127.0.0.1:5000/acme/web@${DIGEST_B}`);
    });

    it("keeps a stack without services as one service made of the single-service settings", () => {
        const values = { ...GOOD };
        delete values["release:images"];
        const { release, settings } = parseDeployConfig({ get: (ns, key) => values[`${ns}:${key}`] });
        expect(settings.bundle).to.equal(false);
        expect(settings.services).to.have.length(1);
        expect(settings.services[0]).to.include({ name: "api-server", container: "api-server", port: 8080, publicPort: 8443, migrations: true });
        expect(releaseIdentity(release)).to.have.length(4);
    });

    const cases: [string, Record<string, string>, unknown, RegExp][] = [
        ["a name that is not a DNS label", GOOD, [{ ...BUNDLE[0], name: "API_1" }, BUNDLE[1]], /^api-server:services\[0\]\.name "API_1" is invalid: must be a DNS label/],
        ["two services with one name", { ...GOOD, "release:images": JSON.stringify({ api: `r/x@${DIGEST_B}` }) }, [BUNDLE[0], { ...BUNDLE[1], name: "api" }], /^api-server:services\[1\]\.name "api" is used by api-server:services\[0\] too/],
        ["two services on one port", GOOD, [BUNDLE[0], { ...BUNDLE[1], port: 9001 }], /^api-server:services\[1\]\.port 9001 \(slot port\) collides with api-server:services\[0\]\.port \+ 1 = 9001/],
        ["a public port on a slot port", GOOD, [BUNDLE[0], { ...BUNDLE[1], publicPort: 9000 }], /^api-server:services\[1\]\.publicPort 9000 \(public port\) collides with api-server:services\[0\]\.port 9000/],
        ["a slot port on the admin port", { ...GOOD, "api-server:proxyAdminPort": "9010" }, BUNDLE, /^api-server:services\[1\]\.port 9010 \(slot port\) collides with api-server:proxyAdminPort 9010/],
        ["a service without a pinned digest", { ...GOOD, "release:images": "{}" }, BUNDLE, /^release:images\.web is not set: service web must be pinned by digest/],
        ["a service pinned by tag", { ...GOOD, "release:images": JSON.stringify({ web: "127.0.0.1:5000/acme/web:v2.1.0" }) }, BUNDLE, /^release:images\.web "127\.0\.0\.1:5000\/acme\/web:v2\.1\.0" is invalid: must be repository@sha256/],
        ["an image for no service", { ...GOOD, "release:images": JSON.stringify({ web: `r/web@${DIGEST_B}`, db: `r/db@${DIGEST_B}` }) }, BUNDLE, /^release:images\.db names no service/],
        ["no owner of migrations", GOOD, [{ ...BUNDLE[0], migrations: false }, BUNDLE[1]], /^api-server:services has 0 services with migrations: true/],
        ["a second service without its public port", GOOD, [BUNDLE[0], { ...BUNDLE[1], publicPort: undefined }], /^api-server:services\[1\]\.publicPort is not set/],
        ["an unknown service setting", GOOD, [BUNDLE[0], { ...BUNDLE[1], replicas: 2 }], /^api-server:services\[1\]\.replicas is not a service setting/],
        ["services that are not a list", GOOD, { api: {} }, /^api-server:services is invalid: must be a non-empty list/],
        ["maintenance without a proxy", { ...GOOD, "api-server:proxyPort": "0", "api-server:maintenance": "on" }, [BUNDLE[0], { ...BUNDLE[1], publicPort: undefined }], /^api-server:maintenance "on" needs the proxy/],
        ["a maintenance message over two lines", { ...GOOD, "api-server:maintenanceMessage": "down\nsoon" }, BUNDLE, /^api-server:maintenanceMessage "down\\nsoon" is invalid: must be 1 to 500 characters on one line/],
    ];
    for (const [what, values, services, want] of cases) {
        it(`refuses ${what}, in one line naming the key`, () => {
            const got = problems(values, services);
            expect(got.some(p => want.test(p)), got.join("\n")).to.equal(true);
            for (const p of got) expect(p).to.not.include("\n");
        });
    }

    it("reads release:images as a JSON object and names a malformed one", () => {
        const found: string[] = [];
        expect(parseImages(JSON.stringify({ web: `r/web@${DIGEST_B}` }), found)).to.deep.equal({ web: `r/web@${DIGEST_B}` });
        parseImages("web=r/web", found);
        expect(found).to.deep.equal(['release:images "web=r/web" is invalid: must be an object of service: repository@sha256:<64 hex>']);
    });

    it("refuses release:images on a single-service stack", () => {
        const ctx: BundleContext = { appName: "api", appPort: 8080, healthPath: "/health", proxyPort: 0, proxyAdminPort: 2019, primaryImage: `r/api@${DIGEST_A}`, appEnv: {}, critical: [] };
        const found: string[] = [];
        parseServices(undefined, { web: `r/web@${DIGEST_B}` }, ctx, found);
        expect(found[0]).to.match(/^release:images\.web names no service: this stack has one service/);
    });
});
