// When deployctl deploy starts the backup with the update, and with which settings.
import { expect } from "chai";
import { aheadBlocker, backupEnv, backupFingerprint } from "../../cli/backupAhead";
import { DEFAULTS } from "../../components/config";
import { StackSettings } from "../../cli/live";

const settings = (values: Record<string, string> = {}): StackSettings => ({
    get: (k: string) => values[k] ?? DEFAULTS[k] ?? "", password: "s3cret",
});

describe("backup started with the update", () => {
    it("starts only when the release identity changes, maintenance is off and backupAhead is not false", () => {
        expect(aheadBlocker(settings(), true)).to.equal(undefined);
        expect(aheadBlocker(settings(), false)).to.match(/identity is unchanged/);
        expect(aheadBlocker(settings({ maintenance: "on" }), true)).to.match(/maintenance is on/);
        expect(aheadBlocker(settings({ backupAhead: "false" }), true)).to.match(/backupAhead is false/);
    });

    it("passes the backup step's settings, integers as the program passes them", () => {
        const env = backupEnv(settings({ dbPort: "05432", backupRetain: "007", dbName: "shop", backupDir: "/srv/dumps" }), "v2.0.0");
        expect(env).to.include({
            PGPORT: "5432", BACKUP_RETAIN: "7", PGDATABASE: "shop", PGUSER: "app", PGHOST: "127.0.0.1", PGPASSWORD: "s3cret",
            BACKUP_DIR: "/srv/dumps", BACKUP_PREFIX: "pre_release", RELEASE_VERSION: "v2.0.0", BACKUP_VERIFY: "restore",
        });
    });

    it("fingerprints what is dumped, where and how, but not the password", () => {
        const env = backupEnv(settings(), "v2.0.0");
        const fp = backupFingerprint(env);
        expect(fp).to.match(/^[0-9a-f]{64}$/);
        expect(backupFingerprint({ ...env, PGPASSWORD: "other" })).to.equal(fp);
        for (const k of ["PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "BACKUP_DIR", "BACKUP_PREFIX", "RELEASE_VERSION", "BACKUP_VERIFY", "BACKUP_RETAIN", "SKIP_AT_SCHEMA"]) {
            expect(backupFingerprint({ ...env, [k]: "x" }), k).to.not.equal(fp);
        }
    });
});
