// The hotfix runbook's decision tree.
import { expect } from "chai";
import { decide } from "../../cli/decide";

describe("rollback-or-hotfix decision", () => {
    it("rolls back immediately when customers are impacted", () => {
        expect(decide({ impactingCustomers: true, configFix: true, patchMinutes: 5 }).action).to.equal("rollback");
    });
    it("ships a config hotfix when configuration or a flag mitigates it", () => {
        expect(decide({ impactingCustomers: false, configFix: true }).action).to.equal("config-hotfix");
    });
    it("hotfixes when a low-risk patch validates within 15 minutes", () => {
        const d = decide({ impactingCustomers: false, configFix: false, patchMinutes: 15 });
        expect(d.action).to.equal("hotfix");
        expect(d.reason).to.include("15 min");
    });
    it("rolls back when the patch takes longer than 15 minutes or there is none", () => {
        expect(decide({ impactingCustomers: false, configFix: false, patchMinutes: 16 }).action).to.equal("rollback");
        expect(decide({ impactingCustomers: false, configFix: false }).reason).to.include("no low-risk patch");
    });
    it("hotfixes when the prior release has the regression too, since rolling back would not help", () => {
        expect(decide({ impactingCustomers: true, configFix: false, regressionInPrior: true }).action).to.equal("hotfix");
    });
    it("always says what to run next", () => {
        expect(decide({ impactingCustomers: true, configFix: false }).next).to.include("deployctl rollback previous");
    });
});
