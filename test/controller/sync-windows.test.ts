/** Sync windows: when a window is open, what it covers, and the verdict on a commit's objects. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseServerConfig, ServerConfigError } from "../../src/controller/server-config.ts";
import { parseDuration, SyncWindows, type SyncWindowConfig } from "../../src/controller/sync-windows.ts";
import { windowSubjects } from "../../src/controller/window-gate.ts";

const H = 3600_000;
const at = (iso: string) => Date.parse(iso);
function window(over: Partial<SyncWindowConfig> & Pick<SyncWindowConfig, "name" | "kind" | "schedule">): SyncWindowConfig {
  return { durationMs: 2 * H, timeZone: "UTC", repositories: [], objects: [], regions: [], clusters: [], accounts: [], ...over };
}
const web = { repository: "apps", object: "prod/web/web", region: "eu-west-1", cluster: "prod", account: "111122223333" };

describe("sync windows", () => {
  it("a deny window holds what it covers from each start for its duration, in its time zone", () => {
    // Fridays 18:00 in Berlin for 62 hours: the weekend.
    const w = new SyncWindows([window({ name: "weekend", kind: "deny", schedule: "0 18 * * 5", durationMs: 62 * H, timeZone: "Europe/Berlin" })]);
    assert.equal(w.verdict([web], at("2026-01-09T16:59:00Z")).held, false, "17:59 in Berlin");
    const friday = w.verdict([web], at("2026-01-09T17:00:00Z"));
    assert.deepEqual([friday.held, friday.windows, friday.objects, friday.until], [true, [{ name: "weekend", kind: "deny" }], ["prod/web/web"], at("2026-01-12T07:00:00Z")]);
    assert.match(friday.message, /^deny window weekend is open until 2026-01-12T07:00:00\.000Z \(prod\/web\/web\)$/);
    assert.equal(w.verdict([web], at("2026-01-12T06:59:59Z")).held, true);
    assert.equal(w.verdict([web], at("2026-01-12T07:00:00Z")).held, false, "Monday 08:00 in Berlin: the window has ended");
  });

  it("follows daylight saving time: 18:00 Berlin is 16:00 UTC in summer", () => {
    const w = new SyncWindows([window({ name: "evening", kind: "deny", schedule: "0 18 * * *", durationMs: H, timeZone: "Europe/Berlin" })]);
    assert.equal(w.verdict([web], at("2026-07-01T16:30:00Z")).held, true);
    assert.equal(w.verdict([web], at("2026-01-01T16:30:00Z")).held, false);
    assert.equal(w.verdict([web], at("2026-01-01T17:30:00Z")).held, true);
  });

  it("allow windows: covered objects deploy only while one is open; a deny window wins over an open allow window", () => {
    const w = new SyncWindows([
      window({ name: "business-hours", kind: "allow", schedule: "0 9 * * 1-5", durationMs: 8 * H, objects: ["prod/"] }),
      window({ name: "incident", kind: "deny", schedule: "0 12 5 1 *", durationMs: H, clusters: ["prod"] }),
    ]);
    const dev = { repository: "apps", object: "dev/web/web", region: "eu-west-1", cluster: "dev" };
    const night = w.verdict([web, dev], at("2026-01-05T20:00:00Z"));
    assert.deepEqual([night.held, night.objects, night.until], [true, ["prod/web/web"], at("2026-01-06T09:00:00Z")]);
    assert.match(night.message, /allow window business-hours is closed until 2026-01-06T09:00:00\.000Z/);
    assert.equal(w.verdict([dev], at("2026-01-05T20:00:00Z")).held, false, "no window covers dev");
    assert.equal(w.verdict([web], at("2026-01-05T10:00:00Z")).held, false, "inside business hours");
    const incident = w.verdict([web], at("2026-01-05T12:30:00Z"));
    assert.deepEqual([incident.held, incident.windows.map((x) => x.name), incident.until], [true, ["incident"], at("2026-01-05T13:00:00Z")]);
  });

  it("selectors: repositories, object prefixes by whole segments, regions, clusters; an unreadable object matches only by name", () => {
    const now = at("2026-01-05T12:30:00Z");
    const deny = (over: Partial<SyncWindowConfig>) => new SyncWindows([window({ name: "w", kind: "deny", schedule: "0 12 * * *", ...over })]);
    assert.equal(deny({ repositories: ["other"] }).verdict([web], now).held, false);
    assert.equal(deny({ repositories: ["apps"] }).verdict([web], now).held, true);
    assert.equal(deny({ objects: ["prod"] }).verdict([web], now).held, true);
    assert.equal(deny({ objects: ["pro"] }).verdict([web], now).held, false, "whole segments");
    assert.equal(deny({ objects: ["prod/web/web"] }).verdict([web], now).held, true);
    assert.equal(deny({ regions: ["us-east-1"] }).verdict([web], now).held, false);
    assert.equal(deny({ clusters: ["prod"], regions: ["eu-west-1"] }).verdict([web], now).held, true);
    assert.equal(deny({ accounts: ["111122223333"] }).verdict([web], now).held, true, "the depdef's environment.account");
    assert.equal(deny({ accounts: ["444455556666"] }).verdict([web], now).held, false);
    assert.equal(deny({ clusters: ["prod"] }).verdict([{ repository: "apps", object: "prod/web/web" }], now).held, false, "no identity: a cluster selector cannot match");
    assert.equal(deny({ objects: ["prod/"] }).verdict([{ repository: "apps", object: "prod/web/web" }], now).held, true);
    assert.equal(deny({}).verdict([], now).held, false, "a commit that changes nothing is never held");
  });

  it("a commit's objects as the windows see them: name, region and cluster from the svcdef, account from the depdef's environment", () => {
    const changes = [
      { object: "prod/web/web", identity: { region: "eu-west-1", cluster: "prod" }, loaded: { depdef: { environment: { account: "111122223333" } } } },
      { object: "prod/api/api", identity: undefined, loaded: undefined },
    ];
    assert.deepEqual(windowSubjects("apps", changes), [
      { repository: "apps", object: "prod/web/web", region: "eu-west-1", cluster: "prod", account: "111122223333" },
      { repository: "apps", object: "prod/api/api" },
    ]);
  });

  it("occurrences that overlap extend the window; states say open or closed and until when", () => {
    const w = new SyncWindows([window({ name: "hourly", kind: "deny", schedule: "0 * * * *", durationMs: 90 * 60_000, repositories: ["apps"] })]);
    const v = w.verdict([web], at("2026-01-05T12:10:00Z"));
    assert.equal(v.held, true);
    assert.ok(v.until !== null && v.until > at("2026-01-05T20:00:00Z"), "always open: the chain runs on");
    const daily = new SyncWindows([window({ name: "noon", kind: "deny", schedule: "0 12 * * *" })]);
    assert.deepEqual(daily.states(at("2026-01-05T13:00:00Z"))[0], {
      name: "noon", kind: "deny", schedule: "0 12 * * *", timeZone: "UTC", durationSeconds: 7200, open: true, nextChange: "2026-01-05T14:00:00.000Z", repositories: [], objects: [], regions: [], clusters: [], accounts: [],
    });
    assert.equal(daily.states(at("2026-01-05T14:00:00Z"))[0]?.nextChange, "2026-01-06T12:00:00.000Z");
  });

  it("durations", () => {
    assert.equal(parseDuration("30m"), 30 * 60_000);
    assert.equal(parseDuration("1h30m"), 90 * 60_000);
    assert.equal(parseDuration("2d"), 48 * H);
    assert.equal(parseDuration("45s"), 45_000);
    for (const bad of ["", "0m", "1x", "h", "-1h", "1.5h"]) assert.equal(parseDuration(bad), undefined, bad);
  });

  it("the configuration: defaults, and every mistake with its path", () => {
    const parse = (text: string) => parseServerConfig(text, { file: "flotilla.yaml", baseDir: "/etc/flotilla" });
    const c = parse(`syncWindows:\n  - { name: freeze, kind: deny, schedule: "0 18 * * 5", duration: 62h, timeZone: Europe/Berlin, objects: [prod/] }\n`);
    assert.deepEqual(c.syncWindows, [{ name: "freeze", kind: "deny", schedule: "0 18 * * 5", durationMs: 62 * H, timeZone: "Europe/Berlin", repositories: [], objects: ["prod/"], regions: [], clusters: [], accounts: [] }]);
    assert.deepEqual(parse("").syncWindows, []);
    const problems = (text: string) => {
      try {
        parse(text);
      } catch (e) {
        assert.ok(e instanceof ServerConfigError);
        return e.problems.map((p) => `${p.path} ${p.message}`);
      }
      return assert.fail("accepted");
    };
    assert.match(problems(`syncWindows:\n  - { name: a, kind: deny, schedule: "61 * * * *", duration: 1h }\n`)[0]!, /^\$\.syncWindows\[0\]\.schedule not a five-field cron schedule/);
    assert.match(problems(`syncWindows:\n  - { name: a, kind: deny, schedule: "0 0 * * * *", duration: 1h }\n`)[0]!, /schedule not a five-field/);
    assert.match(problems(`syncWindows:\n  - { name: a, kind: deny, schedule: "0 9 * * *", duration: 1h, timeZone: Mars/Base }\n`)[0]!, /^\$\.syncWindows\[0\]\.timeZone unknown time zone/);
    assert.match(problems(`syncWindows:\n  - { name: a, kind: deny, schedule: "0 9 * * *", duration: soon }\n`)[0]!, /^\$\.syncWindows\[0\]\.duration must be a duration/);
    assert.match(problems(`syncWindows:\n  - { name: a, kind: maybe, schedule: "0 9 * * *", duration: 1h }\n`)[0]!, /^\$\.syncWindows\[0\]\.kind/);
    assert.match(problems(`syncWindows:\n  - { name: a, kind: deny, schedule: "0 9 * * *", duration: 1h }\n  - { name: a, kind: allow, schedule: "0 9 * * *", duration: 1h }\n`)[0]!, /^\$\.syncWindows\[1\]\.name another window is named "a"/);
    assert.match(problems(`syncWindows:\n  - { name: a, kind: deny, schedule: "0 9 * * *", duration: 1h, environment: prod }\n`)[0]!, /unknown key "environment"/);
  });
});
