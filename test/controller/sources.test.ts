import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { signGithubPayload } from "../../src/controller/github-webhook.ts";
import type { CommitContext, SourceEvent } from "../../src/controller/source-events.ts";
import { GitSources } from "../../src/controller/sources.ts";
import type { WebhookDelivery } from "../../src/api/types.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { openSqliteStore } from "../../src/store/index.ts";
import { repositoryLeaseKey, type Store } from "../../src/store/store.ts";
import { TestRemote } from "../helpers/git-remote.ts";
import { rollingObject, svcdef } from "../helpers/objects.ts";
import { TEST_POLICY } from "../helpers/policy.ts";

const SECRET = "webhook-secret-for-tests";
const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Harness {
  r: TestRemote;
  store: Store;
  clock: VirtualClock;
  sources: GitSources;
  dataDir: string;
  /** Every commit the handler was given, in order. */
  handled: CommitContext[];
  events: SourceEvent[];
  /** Resolves once the handler has seen `sha`. */
  handledSha(sha: string): Promise<void>;
}

async function harness(options: { autoAdvance?: boolean; handler?: (c: CommitContext) => Promise<unknown>; poll?: number } = {}): Promise<Harness> {
  const r = new TestRemote();
  const dataDir = mkdtempSync(path.join(tmpdir(), "flotilla-data-"));
  const clock = new VirtualClock({ autoAdvance: options.autoAdvance ?? false });
  const store = await openSqliteStore({ path: ":memory:", clock });
  await store.addRepository({ name: "apps", url: `file://${r.bare}`, branch: "main", pollIntervalSeconds: options.poll ?? 30 });
  const handled: CommitContext[] = [];
  const events: SourceEvent[] = [];
  const waiters: { sha: string; resolve: () => void }[] = [];
  const sources = new GitSources({
    store,
    clock,
    dataDir,
    holder: "replica-1",
    policy: TEST_POLICY,
    webhookSecret: SECRET,
    onEvent: (e) => events.push(e),
    handler: async (c) => {
      handled.push(c);
      for (const w of waiters.filter((x) => x.sha === c.plan.commit.sha)) w.resolve();
      return options.handler ? await options.handler(c) : undefined;
    },
  });
  cleanups.push(
    () => r.cleanup(),
    () => rmSync(dataDir, { recursive: true, force: true }),
    () => store.close(),
    () => sources.stop(),
  );
  return {
    r,
    store,
    clock,
    sources,
    dataDir,
    handled,
    events,
    handledSha: (sha) => (handled.some((c) => c.plan.commit.sha === sha) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ sha, resolve }))),
  };
}

function pushPayload(r: TestRemote, after: string, options: { ref?: string; url?: string } = {}): string {
  return JSON.stringify({
    ref: options.ref ?? "refs/heads/main",
    before: "0".repeat(40),
    after,
    forced: false,
    deleted: false,
    repository: { full_name: "acme/apps", clone_url: options.url ?? `file://${r.bare}`, html_url: "https://github.com/acme/apps" },
  });
}

function signed(body: string, delivery: string, extra: Record<string, string> = {}): WebhookDelivery {
  return { rawBody: Buffer.from(body), headers: { "X-Hub-Signature-256": signGithubPayload(SECRET, body), "x-github-delivery": delivery, "x-github-event": "push", ...extra } };
}

const last = async (h: Harness) => (await h.store.getLastCommit("apps", "main"))?.sha;

describe("Git sources (real git, local bare remotes)", () => {
  it("given a repository, when the poller runs on a virtual clock, then the first sync creates the mirror and later pushes are picked up in order", { timeout: 60_000 }, async () => {
    const h = await harness({ autoAdvance: true });
    const c1 = h.r.push(rollingObject("dev/web/web", "web"), "first");
    h.sources.poller.start();
    await h.handledSha(c1);
    assert.ok(h.events.some((e) => e.type === "mirror-created"));
    assert.ok(existsSync(h.sources.mirrors.of((await h.store.getRepository("apps"))!).gitDir));
    const c2 = h.r.push({ "dev/web/web_svcdef.json": svcdef("web", { desiredCount: 3 }) }, "second");
    const c3 = h.r.push({ ...rollingObject("dev/api/api", "api") }, "third");
    await h.handledSha(c3);
    await h.sources.stop();
    assert.deepEqual(
      h.handled.map((c) => [c.plan.commit.sha, c.trigger, c.plan.deploy.map((d) => `${d.object}:${d.reason}`).join(",")]),
      [
        [c1, "poll", "dev/web/web:initial"],
        [c2, "poll", "dev/web/web:changed"],
        [c3, "poll", "dev/api/api:created"],
      ],
    );
    assert.equal(await last(h), c3);
    assert.equal(h.events.filter((e) => e.type === "mirror-created").length, 1, "cloned once, fetched after");
    assert.ok(h.clock.now() > Date.UTC(2026, 0, 1), "time came from the virtual clock");
  });

  it("a signed push webhook is queued and processed; bad or missing signatures are rejected with nothing queued", async () => {
    const h = await harness();
    const c1 = h.r.push(rollingObject("a/a", "a"));
    const body = pushPayload(h.r, c1);

    const forged = await h.sources.webhooks.handleGithubWebhook({ rawBody: body, headers: { "x-hub-signature-256": signGithubPayload("wrong", body), "x-github-delivery": "d-forged", "x-github-event": "push" } });
    assert.equal(forged.outcome, "bad-signature");
    const missing = await h.sources.webhooks.handleGithubWebhook({ rawBody: body, headers: { "x-github-delivery": "d-missing", "x-github-event": "push" } });
    assert.equal(missing.outcome, "bad-signature");
    assert.equal(h.handled.length, 0);
    assert.equal(await last(h), undefined);

    const ok = await h.sources.webhooks.handleGithubWebhook(signed(body, "d-1"));
    assert.deepEqual([ok.outcome, ok.repositories], ["queued", ["apps"]]);
    await ok.done;
    assert.deepEqual(h.handled.map((c) => [c.plan.commit.sha, c.trigger]), [[c1, "webhook"]]);
    assert.equal(await last(h), c1);
  });

  it("a replayed delivery is ignored, and so are pushes already processed or older than the last processed commit", async () => {
    const h = await harness();
    const c1 = h.r.push(rollingObject("a/a", "a"));
    const c2 = h.r.push({ "a/a_svcdef.json": svcdef("a", { desiredCount: 2 }) });
    const c3 = h.r.push({ "a/a_svcdef.json": svcdef("a", { desiredCount: 3 }) });
    const first = await h.sources.webhooks.handleGithubWebhook(signed(pushPayload(h.r, c3), "d-3"));
    await first.done;
    assert.deepEqual(h.handled.map((c) => c.plan.commit.sha), [c3], "first sight: the head alone");

    const replay = await h.sources.webhooks.handleGithubWebhook(signed(pushPayload(h.r, c3), "d-3"));
    assert.equal(replay.outcome, "duplicate");
    const late = await h.sources.webhooks.handleGithubWebhook(signed(pushPayload(h.r, c2), "d-2"));
    assert.equal(late.outcome, "already-processed");
    const older = await h.sources.webhooks.handleGithubWebhook(signed(pushPayload(h.r, c1), "d-1"));
    assert.equal(older.outcome, "already-processed");
    const same = await h.sources.webhooks.handleGithubWebhook(signed(pushPayload(h.r, c3), "d-3-again"));
    assert.equal(same.outcome, "already-processed");
    assert.equal(h.handled.length, 1, "nothing ran again");
    assert.equal(await last(h), c3, "the last processed commit never moved back");

    const c4 = h.r.push({ "a/a_svcdef.json": svcdef("a", { desiredCount: 4 }) });
    const c5 = h.r.push({ "a/a_svcdef.json": svcdef("a", { desiredCount: 5 }) });
    const newer = await h.sources.webhooks.handleGithubWebhook(signed(pushPayload(h.r, c4), "d-4"));
    await newer.done;
    assert.deepEqual(h.handled.map((c) => c.plan.commit.sha), [c3, c4, c5], "a push for c4 processes the branch up to its head, in order");
    assert.equal((await h.sources.webhooks.handleGithubWebhook(signed(pushPayload(h.r, c5), "d-5"))).outcome, "already-processed");
  });

  it("other webhook deliveries: ping, other events, tags, unknown repositories, malformed bodies, no secret", async () => {
    const h = await harness();
    const c1 = h.r.push(rollingObject("a/a", "a"));
    assert.equal((await h.sources.webhooks.handleGithubWebhook(signed("{}", "p", { "x-github-event": "ping" }))).outcome, "ping");
    assert.equal((await h.sources.webhooks.handleGithubWebhook(signed("{}", "i", { "x-github-event": "issues" }))).outcome, "not-a-push");
    assert.equal((await h.sources.webhooks.handleGithubWebhook(signed(pushPayload(h.r, c1, { ref: "refs/tags/v1" }), "t"))).outcome, "not-a-branch");
    assert.equal((await h.sources.webhooks.handleGithubWebhook(signed(pushPayload(h.r, c1, { ref: "refs/heads/dev" }), "b"))).outcome, "no-match");
    assert.equal((await h.sources.webhooks.handleGithubWebhook(signed(pushPayload(h.r, c1, { url: "https://github.com/acme/other.git" }), "u"))).outcome, "no-match");
    const malformed = await h.sources.webhooks.handleGithubWebhook(signed("{not json", "m"));
    assert.equal(malformed.outcome, "invalid");
    const noSecret = new GitSources({ store: h.store, clock: h.clock, dataDir: h.dataDir, holder: "x", policy: TEST_POLICY, handler: () => Promise.resolve() });
    assert.equal((await noSecret.webhooks.handleGithubWebhook(signed(pushPayload(h.r, c1), "n"))).outcome, "disabled");
    assert.equal(h.handled.length, 0);
  });

  it("a force-push is reported once as rewritten, nothing deploys, and a manual deploy of the new head moves on", async () => {
    const h = await harness();
    const c1 = h.r.push(rollingObject("a/a", "a"), "one");
    const c2 = h.r.push({ ...rollingObject("b/b", "b") }, "two");
    assert.equal((await h.sources.queue.sync("apps")).kind, "processed");
    const rewritten = h.r.forcePush(c1, { ...rollingObject("c/c", "c") }, "rewritten");
    const outcome = await h.sources.queue.sync("apps");
    assert.deepEqual(outcome, { kind: "rewritten", lastProcessed: c2, head: rewritten, reason: "not-ancestor" });
    await h.sources.queue.sync("apps");
    const reports = h.events.filter((e) => e.type === "rewritten");
    assert.equal(reports.length, 1, "reported once, not on every poll");
    assert.equal(reports[0]!.type === "rewritten" && reports[0]!.problem.code, "FLT-GIT-HISTORY-REWRITTEN");
    assert.equal(h.handled.length, 1, "nothing deployed from the rewritten history (the first sync took the head alone)");
    assert.equal(await last(h), c2);

    const manual = await h.sources.manual.deployCommit("apps", rewritten);
    assert.equal(manual.advanced, true);
    assert.equal(manual.plan.previous, c2, "compared with what was deployed");
    assert.deepEqual(manual.plan.changes.map((c) => `${c.object}:${c.action}`), ["b/b:delete", "c/c:deploy"]);
    assert.equal(await last(h), rewritten);
    assert.equal((await h.sources.queue.sync("apps")).kind, "up-to-date");
  });

  it("manual deploys: --force redeploys unchanged objects; an older commit deploys without moving the last commit back", async () => {
    const h = await harness();
    const c1 = h.r.push({ ...rollingObject("a/a", "a"), ...rollingObject("b/b", "b") });
    const c2 = h.r.push({ "a/a_svcdef.json": svcdef("a", { desiredCount: 7 }) });
    await h.sources.queue.sync("apps");
    assert.equal(await last(h), c2);

    const unforced = await h.sources.manual.deployCommit("apps", c2);
    assert.deepEqual([unforced.advanced, unforced.plan.changes.length], [false, 0]);
    const forced = await h.sources.manual.deployCommit("apps", c2, { force: true, overrides: [{ name: "skip-alarms", setBy: "alice", source: "api", at: 1 }] });
    assert.deepEqual(forced.plan.changes.map((c) => `${c.object}:${c.action}:${c.reason}`), ["a/a:deploy:forced", "b/b:deploy:forced"]);
    assert.deepEqual(forced.plan.overrides.map((o) => o.setBy), ["alice"]);
    assert.equal(forced.advanced, false);

    const back = await h.sources.manual.deployCommit("apps", c1);
    assert.equal(back.advanced, false);
    assert.deepEqual(back.plan.changes.map((c) => `${c.object}:${c.action}`), ["a/a:deploy"], "back to c1's definition of a");
    assert.equal(await last(h), c2, "the last processed commit only moves forward");
    assert.deepEqual(h.handled.slice(-3).map((c) => c.trigger), ["manual", "manual", "manual"]);
    await assert.rejects(h.sources.manual.deployCommit("apps", "f".repeat(40)), (e: { code?: string }) => e.code === "FLT-GIT-UNKNOWN-REVISION");
  });

  it("a dry run says what would happen without running or recording anything", async () => {
    const h = await harness();
    const c1 = h.r.push({ ...rollingObject("a/a", "a") });
    const dry = await h.sources.manual.dryRun("apps", c1, { render: true });
    assert.equal(dry.advances, true);
    assert.deepEqual(dry.objects.map((o) => `${o.object}:${o.action}:${o.reason}`), ["a/a:deploy:initial"]);
    assert.equal((dry.objects[0]!.rendered!.svcdef as { serviceName: string }).serviceName, "a");
    assert.equal(h.handled.length, 0);
    assert.equal(await last(h), undefined);
    const forced = await h.sources.manual.dryRun("apps", c1, { force: true });
    assert.equal(forced.objects[0]!.rendered, undefined);
  });

  it("one repository is never processed twice at once: triggers during a sync share one follow-up", async () => {
    let running = 0;
    let most = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const h = await harness({
      handler: async () => {
        running++;
        most = Math.max(most, running);
        await gate;
        running--;
      },
    });
    const c1 = h.r.push(rollingObject("a/a", "a"));
    const first = h.sources.queue.sync("apps");
    await h.handledSha(c1);
    const c2 = h.r.push({ "a/a_svcdef.json": svcdef("a", { desiredCount: 9 }) });
    const second = h.sources.queue.sync("apps", "webhook");
    const third = h.sources.queue.sync("apps", "poll");
    assert.equal(second, third, "a waiting sync is shared");
    assert.equal(h.sources.queue.depth("apps"), 2, "one running, one waiting");
    release();
    await Promise.all([first, second]);
    assert.equal(most, 1);
    assert.equal(h.sources.queue.depth("apps"), 0);
    assert.deepEqual(h.handled.map((c) => c.plan.commit.sha), [c1, c2]);
  });

  it("another replica holding the repository's lease: the sync steps aside and a manual deploy says it is busy", async () => {
    const h = await harness();
    const c1 = h.r.push(rollingObject("a/a", "a"));
    await h.store.acquireLease(repositoryLeaseKey("apps", "main"), "replica-2", 60_000);
    assert.deepEqual(await h.sources.queue.sync("apps"), { kind: "held-elsewhere", holder: "replica-2" });
    await assert.rejects(h.sources.manual.deployCommit("apps", c1), (e: { code?: string }) => e.code === "FLT-CONTROLLER-BUSY");
    assert.equal(h.handled.length, 0);
    await h.store.releaseLease(repositoryLeaseKey("apps", "main"), "replica-2");
    assert.equal((await h.sources.queue.sync("apps")).kind, "processed");
    assert.ok(await h.store.acquireLease(repositoryLeaseKey("apps", "main"), "replica-2", 60_000), "released after the sync");
  });

  it("stop: takes no new work, and waits for the sync in flight to finish and record its commit", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const h = await harness({ handler: () => gate });
    const c1 = h.r.push(rollingObject("a/a", "a"));
    const inFlight = h.sources.queue.sync("apps", "webhook");
    await h.handledSha(c1);
    let stopped = false;
    const stopping = h.sources.stop().then(() => (stopped = true));
    const hook = await h.sources.webhooks.handleGithubWebhook(signed(pushPayload(h.r, c1), "late"));
    assert.equal(hook.outcome, "stopping");
    await assert.rejects(h.sources.manual.deployCommit("apps", c1), (e: { code?: string }) => e.code === "FLT-CONTROLLER-STOPPING");
    assert.equal(stopped, false, "still waiting for the deployment");
    release();
    await stopping;
    assert.equal((await inFlight).kind, "processed");
    assert.equal(await last(h), c1);
  });

  it("a replica that loses its lease mid-sync stops before the next commit", async () => {
    const key = repositoryLeaseKey("apps", "main");
    let steal = false;
    const h = await harness({
      handler: async () => {
        if (!steal) return;
        // Another replica takes over (our lease expired), then our renewal comes due and fails.
        await h.store.releaseLease(key, "replica-1");
        await h.store.acquireLease(key, "replica-2", 60_000);
        await h.clock.advance(20_000);
      },
    });
    const c1 = h.r.push(rollingObject("a/a", "a"));
    await h.sources.queue.sync("apps");
    const c2 = h.r.push({ "a/a_svcdef.json": svcdef("a", { desiredCount: 2 }) });
    h.r.push({ "a/a_svcdef.json": svcdef("a", { desiredCount: 3 }) });
    steal = true;
    const outcome = await h.sources.queue.sync("apps");
    assert.deepEqual(outcome.kind === "processed" && outcome.commits, [c2]);
    assert.ok(h.events.some((e) => e.type === "lease-lost"));
    assert.deepEqual(h.handled.map((c) => c.plan.commit.sha), [c1, c2]);
    assert.equal((await h.store.getLease(key))?.holder, "replica-2", "our release does not free the other replica's lease");
  });
});
