// The reverse proxy's config and the rules that tie its ports together.
import { expect } from "chai";
import { proxyProblems } from "../../components/config";
import { proxyConfig } from "../../components/proxyConfig";

describe("proxy config", () => {
    const args = { adminPort: 2019, services: [{ slot: "api-server", publicPort: 8443, healthPath: "/health" }] };
    const server = () => JSON.parse(proxyConfig(args)).apps.http.servers["api-server"];

    it("listens on the public port, with the admin API on loopback only", () => {
        expect(JSON.parse(proxyConfig(args)).admin.listen).to.equal("127.0.0.1:2019");
        expect(server().listen).to.deep.equal([":8443"]);
        expect(server().automatic_https.disable).to.equal(true);
    });

    it("proxies to the upstream the switch sets (the slot source), never to one written in the config", () => {
        const handler = server().routes[0].handle[1];
        expect(handler.handler).to.equal("reverse_proxy");
        expect(handler.dynamic_upstreams).to.deep.equal({ source: "slot", name: "api-server" });
        expect(handler).to.not.have.property("upstreams");
        expect(handler.load_balancing.try_duration).to.equal("2s");
    });

    it("puts the maintenance switch in front of the service, with its health path let through", () => {
        expect(server().routes[0].handle[0]).to.deep.equal({ handler: "slot_maintenance", allow: ["/health"], retry_after: 30 });
    });

    it("gives each service of a bundle its own server, port and slot", () => {
        const two = JSON.parse(proxyConfig({
            adminPort: 2019,
            services: [{ slot: "shop-api", publicPort: 8443, healthPath: "/health" }, { slot: "shop-web", publicPort: 8444, healthPath: "/up" }],
        })).apps.http.servers;
        expect(Object.keys(two)).to.deep.equal(["shop-api", "shop-web"]);
        expect(two["shop-web"].listen).to.deep.equal([":8444"]);
        expect(two["shop-web"].routes[0].handle[1].dynamic_upstreams.name).to.equal("shop-web");
        expect(two["shop-web"].routes[0].handle[0].allow).to.deep.equal(["/up"]);
    });

    it("answers errors (no upstream yet, or none reachable) with their status and Retry-After", () => {
        const h = server().errors.routes[0].handle[0];
        expect(h).to.include({ handler: "static_response", status_code: "{http.error.status_code}" });
        expect(h.headers["Retry-After"]).to.deep.equal(["5"]);
    });
});

describe("proxy port rules", () => {
    const base = { proxyPort: "8443", proxyAdminPort: "2019", proxyImage: "127.0.0.1:5000/acme/proxy@sha256:" + "a".repeat(64), appPort: "8080" };

    it("accepts distinct ports, and anything without a proxy", () => {
        expect(proxyProblems(base)).to.deep.equal([]);
        expect(proxyProblems({ ...base, proxyPort: "0", proxyImage: "" })).to.deep.equal([]);
    });

    it("refuses each collision and a missing image in one line naming the key", () => {
        expect(proxyProblems({ ...base, proxyImage: "" })).to.deep.equal(["api-server:proxyImage is not set: proxyPort 8443 needs the proxy's image (repo@sha256:...)"]);
        expect(proxyProblems({ ...base, proxyPort: "8081" })[0]).to.match(/^api-server:proxyPort 8081 collides with a slot port of the service \(appPort 8080 and 8081\)/);
        expect(proxyProblems({ ...base, proxyAdminPort: "8443" })[0]).to.match(/^api-server:proxyAdminPort 8443 collides with proxyPort/);
        expect(proxyProblems({ ...base, proxyAdminPort: "8080" })[0]).to.match(/^api-server:proxyAdminPort 8080 collides with a slot port/);
        expect(proxyProblems({ ...base, appPort: "65535" })[0]).to.match(/^api-server:appPort 65535 leaves no second slot port/);
    });
});
