/**
 * Issue 18, sync windows end to end on the simulator: a commit pushed while a deny window is open
 * waits, queued and visible (API, CLI, activity, a pending commit status), and goes out when an
 * operator releases it (an override, audited and recorded on its deployment), when its message
 * carries `Flotilla-Override: outside-window`, or when the window ends — all on the virtual clock.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { CommitStatusUpdate } from "../../src/controller/commit-status.ts";
import { SyncWindows } from "../../src/controller/sync-windows.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { cli } from "../helpers/cli.ts";
import { controllerWorld, type ControllerWorld } from "../helpers/controller-world.ts";
import { rollingObject, taskdef } from "../helpers/objects.ts";

const H = 3600_000;
/** Monday 2026-01-05, 09:00 UTC (10:00 in Berlin). */
const MONDAY_9 = Date.UTC(2026, 0, 5, 9, 0);
/** The freeze ends at 13:00 in Berlin. */
const FREEZE_ENDS = Date.UTC(2026, 0, 5, 12, 0);

const worlds: ControllerWorld[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

/** One step: a virtual second (when anything sleeps on the clock), and a moment of real time for git. */
async function step(clock: VirtualClock): Promise<void> {
  if (clock.pending > 0) await clock.advance(1000);
  await new Promise((r) => setTimeout(r, 2));
}

/** Steps until `p` settles (at most `maxMs` of virtual time). */
async function drive<T>(clock: VirtualClock, p: Promise<T>, maxMs = H): Promise<T> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  const limit = clock.now() + maxMs;
  while (!settled) {
    if (clock.now() >= limit) throw new Error("did not settle in time");
    await step(clock);
  }
  return p;
}

async function world() {
  const clock = new VirtualClock({ start: MONDAY_9 });
  const statuses: { sha: string; update: CommitStatusUpdate }[] = [];
  const windows = new SyncWindows([
    // Mondays 09:00-13:00 in Berlin, for the apps repository's prod objects.
    { name: "monday-freeze", kind: "deny", schedule: "0 9 * * 1", durationMs: 4 * H, timeZone: "Europe/Berlin", repositories: ["apps"], objects: ["prod/"], regions: [], clusters: [], accounts: [] },
  ]);
  const w = await controllerWorld({ clock, controller: { syncWindows: windows, statuses: { report: (_r, sha, update) => statuses.push({ sha, update }) } } });
  worlds.push(w);
  return { w, clock, statuses };
}

describe("sync windows", () => {
  it("Given a deny window open, When a commit changes a prod object, Then it waits, visible; When an operator releases it, Then it deploys with the override recorded", async () => {
    const { w, clock, statuses } = await world();
    const sha = w.remote.push(rollingObject("prod/web/web", "web"), "web");
    const outcome = await drive(clock, w.controller.sources.queue.sync("apps", "poll"));
    assert.equal(outcome.kind, "waiting");
    assert.equal((await w.store.getLastCommit("apps", "main"))?.sha, undefined, "not processed");
    assert.equal((await w.store.listDeployments({ repository: "apps" })).items.length, 0, "nothing deployed");
    // Visible: the API, the CLI, the activity stream and the commit's status.
    const api = await w.api("GET", "/api/v1/sync-windows", { token: w.reader });
    assert.equal(api.status, 200);
    const listed = api.json as { windows: { name: string; open: boolean; nextChange: string }[]; waiting: { sha: string; windows: { name: string }[]; until: string; message: string }[] };
    assert.deepEqual(listed.windows.map((x) => [x.name, x.open, x.nextChange]), [["monday-freeze", true, new Date(FREEZE_ENDS).toISOString()]]);
    assert.deepEqual(listed.waiting.map((c) => [c.sha, c.windows[0]?.name, c.until]), [[sha, "monday-freeze", new Date(FREEZE_ENDS).toISOString()]]);
    const shown = await cli(["window", "list"], w.env(w.reader));
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /monday-freeze\s+deny\s+open/);
    assert.match(shown.stdout, new RegExp(`apps\\s+${sha.slice(0, 12)}`));
    assert.match(shown.stdout, /deny window monday-freeze is open until 2026-01-05T12:00:00\.000Z \(prod\/web\/web\)/);
    const json = JSON.parse((await cli(["window", "list", "--output", "json"], w.env(w.reader))).stdout) as { waiting: { sha: string }[] };
    assert.equal(json.waiting[0]?.sha, sha);
    assert.deepEqual((await w.store.listActivity()).map((a) => [a.type, a.sha]), [["commit-waiting", sha]]);
    assert.deepEqual(statuses.map((s) => [s.sha, s.update.state]), [[sha, "pending"]]);
    assert.match(statuses[0]!.update.description, /^waiting: deny window monday-freeze is open/);
    // A second poll while it waits changes nothing and records nothing new.
    assert.equal((await drive(clock, w.controller.sources.queue.sync("apps", "poll"))).kind, "waiting");
    assert.equal((await w.store.listActivity()).length, 1);

    // A read-only token may not release it; an operator may.
    assert.equal((await w.api("POST", "/api/v1/waiting-commits/release", { token: w.reader, body: { repository: "apps" } })).status, 403);
    const wrong = await w.api("POST", "/api/v1/waiting-commits/release", { body: { repository: "apps", sha: "0000000" } });
    assert.deepEqual([wrong.status, wrong.json["code"]], [409, "FLT-WINDOW-NOT-WAITING"]);
    const released = await w.api("POST", "/api/v1/waiting-commits/release", { body: { repository: "apps", sha: sha.slice(0, 7) } });
    assert.equal(released.status, 200, released.body);
    assert.equal(released.json["releasedBy"], "alice");
    await drive(clock, w.controller.sources.queue.sync("apps", "poll"));
    assert.equal((await w.store.getLastCommit("apps", "main"))?.sha, sha);
    const [d] = (await w.store.listDeployments({ repository: "apps", commitSha: sha })).items;
    assert.equal(d?.phase, "Succeeded");
    assert.ok(d.createdAt < FREEZE_ENDS, "deployed inside the window");
    assert.deepEqual(d.overrides.map((o) => [o.name, o.setBy, o.source]), [["outside-window", "alice", "api"]]);
    const activity = await w.api("GET", "/api/v1/activity?repository=apps", { token: w.reader });
    assert.deepEqual((activity.json["items"] as { type: string; sha: string }[]).map((a) => [a.type, a.sha]), [["window-override", sha], ["commit-waiting", sha]]);
    assert.deepEqual(await w.store.listWaitingCommits(), []);
    const audit = w.logs.map((l) => JSON.parse(l) as { audit?: { action: string; by: string; outcome: string; commit?: string; override?: string } }).find((l) => l.audit?.action === "waiting-commit.release" && l.audit.outcome === "ok");
    assert.deepEqual([audit?.audit?.by, audit?.audit?.commit, audit?.audit?.override], ["alice", sha, "outside-window"]);
    assert.deepEqual(statuses.filter((s) => s.sha === sha).map((s) => s.update.state), ["pending", "pending", "success"]);
  });

  it("Given a deny window open, When the commit says Flotilla-Override: outside-window, Then it deploys at once, the override recorded", async () => {
    const { w, clock } = await world();
    const sha = w.remote.push(rollingObject("prod/web/web", "web"), "hotfix\n\nFlotilla-Override: outside-window");
    assert.equal((await drive(clock, w.controller.sources.queue.sync("apps", "poll"))).kind, "processed");
    const [d] = (await w.store.listDeployments({ repository: "apps", commitSha: sha })).items;
    assert.equal(d?.phase, "Succeeded");
    assert.deepEqual(d.overrides.map((o) => [o.name, o.source]), [["outside-window", "trailer"]]);
    const [activity] = await w.store.listActivity();
    assert.deepEqual([activity?.type, activity?.data?.["source"], activity?.data?.["setBy"]], ["window-override", "trailer", `commit ${sha.slice(0, 7)}`]);
  });

  it("Given a commit waiting, When the window ends, Then it deploys by itself; commits behind it wait in order; objects the window does not cover do not wait", async () => {
    const { w, clock } = await world();
    // dev/ is not covered: it deploys inside the window.
    const dev = w.remote.push(rollingObject("dev/web/web", "devweb"), "dev");
    assert.equal((await drive(clock, w.controller.sources.queue.sync("apps", "poll"))).kind, "processed");
    assert.equal((await w.store.getLastCommit("apps", "main"))?.sha, dev);
    const first = w.remote.push(rollingObject("prod/web/web", "web"), "web");
    const second = w.remote.push({ "prod/web/web_taskdef.json": taskdef("web", { cpu: "256" }) }, "web cpu");
    const outcome = await drive(clock, w.controller.sources.queue.sync("apps", "poll"));
    assert.deepEqual(outcome.kind === "waiting" ? [outcome.sha, outcome.until] : outcome, [first, FREEZE_ENDS]);
    await clock.advanceTo(FREEZE_ENDS);
    // The controller looks again when the window closes, without a poll.
    for (let i = 0; i < 3600 && (await w.store.getLastCommit("apps", "main"))?.sha !== second; i++) await step(clock);
    assert.equal((await w.store.getLastCommit("apps", "main"))?.sha, second);
    const deployments = (await w.store.listDeployments({ repository: "apps" })).items.filter((d) => d.object === "prod/web/web");
    assert.deepEqual(deployments.map((d) => [d.commitSha, d.phase, d.overrides.length]).reverse(), [[first, "Succeeded", 0], [second, "Succeeded", 0]]);
    assert.ok(deployments.every((d) => d.createdAt >= FREEZE_ENDS));
    assert.deepEqual((await w.store.listActivity()).map((a) => a.type).reverse(), ["commit-waiting", "commit-released"]);
  });

  it("Given a deny window open, When a deploy is asked for through the API, Then it is refused with FLT-WINDOW-CLOSED unless it carries the override", async () => {
    const { w, clock } = await world();
    const sha = w.remote.push(rollingObject("prod/web/web", "web"), "web");
    const refused = await drive(clock, w.api("POST", `/api/v1/repositories/apps/commits/${sha}/deploy`, { body: {} }));
    assert.deepEqual([refused.status, refused.json["code"]], [409, "FLT-WINDOW-CLOSED"]);
    const accepted = await drive(clock, w.api("POST", `/api/v1/repositories/apps/commits/${sha}/deploy`, { body: { overrides: ["outside-window"] } }));
    assert.equal(accepted.status, 202, accepted.body);
    for (let i = 0; i < 3600 && (await w.store.getLastCommit("apps", "main"))?.sha !== sha; i++) await step(clock);
    const [d] = (await w.store.listDeployments({ repository: "apps", commitSha: sha })).items;
    assert.deepEqual(d?.overrides.map((o) => [o.name, o.source]).sort(), [["deploy-requested", "api"], ["outside-window", "api"]]);
  });

  it("Given a commit waiting, When an operator runs flotilla window release, Then it deploys at once with the override set by the token's name; a read-only token is refused", async () => {
    const { w, clock } = await world();
    const sha = w.remote.push(rollingObject("prod/web/web", "web"), "web");
    assert.equal((await drive(clock, w.controller.sources.queue.sync("apps", "poll"))).kind, "waiting");
    const denied = await drive(clock, cli(["window", "release", "apps"], w.env(w.reader)));
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /^error FLT-API-FORBIDDEN\n {2}token "dashboard" is read-only/);
    assert.equal((await w.store.getWaitingCommit("apps", "main"))?.releasedBy ?? null, null, "still held");
    const released = await drive(clock, cli(["window", "release", "apps", sha.slice(0, 7)], w.env()));
    assert.equal(released.code, 0, released.stderr);
    assert.match(released.stdout, new RegExp(`^released apps@${sha.slice(0, 12)} \\(held by deny window monday-freeze\\): it deploys now, recorded as an override by alice$`, "m"));
    // No poll: the release syncs the repository.
    for (let i = 0; i < 3600 && (await w.store.getLastCommit("apps", "main"))?.sha !== sha; i++) await step(clock);
    const [d] = (await w.store.listDeployments({ repository: "apps", commitSha: sha })).items;
    assert.equal(d?.phase, "Succeeded");
    assert.deepEqual(d.overrides.map((o) => [o.name, o.setBy, o.source]), [["outside-window", "alice", "api"]]);
  });

  it("Given a deny window selected only by AWS account, When a commit of that account's object is pushed or deployed through the API, Then it waits and the API refuses it with FLT-WINDOW-CLOSED, like any other selector; another account's object goes out", async () => {
    const clock = new VirtualClock({ start: MONDAY_9 });
    const windows = new SyncWindows([{ name: "prod-account", kind: "deny", schedule: "0 9 * * 1", durationMs: 4 * H, timeZone: "Europe/Berlin", repositories: [], objects: [], regions: [], clusters: [], accounts: ["111122223333"] }]);
    const w = await controllerWorld({ clock, controller: { syncWindows: windows } });
    worlds.push(w);
    const inAccount = (account: string) => ({ environment: { account } });
    // Another account's object is not covered: it deploys inside the window.
    const other = w.remote.push({ ...rollingObject("stage/web/web", "stageweb"), "stage/web/web_depdef.json": inAccount("444455556666") }, "stage");
    assert.equal((await drive(clock, w.controller.sources.queue.sync("apps", "poll"))).kind, "processed");
    assert.equal((await w.store.getLastCommit("apps", "main"))?.sha, other);
    const sha = w.remote.push({ ...rollingObject("live/web/web", "web"), "live/web/web_depdef.json": inAccount("111122223333") }, "web");
    const refused = await drive(clock, w.api("POST", `/api/v1/repositories/apps/commits/${sha}/deploy`, { body: {} }));
    assert.deepEqual([refused.status, refused.json["code"]], [409, "FLT-WINDOW-CLOSED"], refused.body);
    assert.match(String(refused.json["message"]), /deny window prod-account is open/);
    assert.equal((await w.store.listDeployments({ repository: "apps", commitSha: sha })).items.length, 0, "nothing started");
    assert.deepEqual(await w.store.listWaitingCommits(), [], "refused, not queued to wait");
    const outcome = await drive(clock, w.controller.sources.queue.sync("apps", "poll"));
    assert.deepEqual(outcome.kind === "waiting" ? [outcome.sha, outcome.until] : outcome, [sha, FREEZE_ENDS]);
  });
});
