/**
 * The behaviour every Store must have, run against SQLite (file and memory) and PostgreSQL.
 * Each test opens a fresh, empty store from the factory.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ActiveDeploymentError, VersionConflictError, isStoreError, repositoryLeaseKey } from "../../src/store/index.ts";
import type { Deployment, Store } from "../../src/store/index.ts";
import { COMMIT_PROBLEMS_KEPT } from "../../src/store/types.ts";
import { newDeployment } from "./fixtures.ts";
import type { TestClock } from "./fixtures.ts";

export interface OpenedStore {
  store: Store;
  clock: TestClock;
  /** A second handle on the same data (another process or replica), where the backend has one. */
  openPeer?: () => Promise<Store>;
  /**
   * Whether the peer may run transactions at the same time as `store` in this process. Not for
   * SQLite: node:sqlite is synchronous, so a second connection waiting on the lock blocks the
   * event loop the first one needs to commit (one Store per file per process; other processes
   * wait on the busy timeout instead).
   */
  concurrentPeer?: boolean;
  cleanup: () => Promise<void>;
}

export type StoreFactory = () => Promise<OpenedStore>;

async function withStore(factory: StoreFactory, body: (s: OpenedStore) => Promise<void>): Promise<void> {
  const opened = await factory();
  try {
    await body(opened);
  } finally {
    await opened.store.close();
    await opened.cleanup();
  }
}

function code(expected: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(isStoreError(e), `expected a StoreError, got ${String(e)}`);
    assert.equal(e.code, expected);
    return true;
  };
}

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    const test = (title: string, body: (s: OpenedStore) => Promise<void>): void => {
      it(title, () => withStore(factory, body));
    };

    describe("migrations", () => {
      test("a fresh store starts empty with every table in place", async ({ store }) => {
        assert.deepEqual((await store.listDeployments()).items, []);
        assert.deepEqual(await store.activeDeployments(), []);
        assert.deepEqual(await store.listRepositories(), []);
        assert.deepEqual(await store.listTokens(), []);
        assert.equal(await store.getLastCommit("infra", "main"), undefined);
        assert.equal(await store.getLease("x"), undefined);
      });

      test("opening an already migrated store again keeps its data", async ({ store, openPeer }) => {
        if (!openPeer) return;
        const d = await store.createDeployment(newDeployment());
        const again = await openPeer();
        try {
          assert.equal((await again.getDeployment(d.id))?.object, d.object);
        } finally {
          await again.close();
        }
      });
    });

    describe("deployments", () => {
      test("create fills defaults and get returns the same record", async ({ store, clock }) => {
        const created = await store.createDeployment(
          newDeployment({ object: "dev/web/web", machineState: { step: "register", nested: [1, { a: null }] } }),
          [{ type: "created", message: "deployment created" }],
        );
        assert.match(created.id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
        assert.equal(created.phase, "Pending");
        assert.equal(created.version, 1);
        assert.deepEqual(created.counts, { desired: 0, running: 0, pending: 0, failed: 0 });
        assert.deepEqual(created.overrides, []);
        assert.equal(created.createdAt, clock.now());
        assert.equal(created.finishedAt, null);
        assert.equal(created.trafficWeight, null);
        assert.deepEqual(await store.getDeployment(created.id), created);
        assert.deepEqual(created.machineState, { step: "register", nested: [1, { a: null }] });
        assert.equal((await store.listEvents(created.id)).length, 1);
        assert.equal(await store.getDeployment("nope"), undefined);
      });

      test("CLI applies have no repository, branch or commit", async ({ store }) => {
        const d = await store.createDeployment(newDeployment({ repository: null, branch: null, commitSha: null }));
        assert.equal(d.repository, null);
        assert.equal(d.branch, null);
        assert.equal(d.commitSha, null);
        assert.equal((await store.latestDeployment(d.object, null))?.id, d.id);
      });

      test("update writes the patch, bumps the version and stamps updatedAt", async ({ store, clock }) => {
        const d = await store.createDeployment(newDeployment({ strategy: "bluegreen" }));
        clock.advance(1000);
        const overrides = [{ name: "skip-alarms", setBy: "alice", source: "cli", at: clock.now() }];
        const u = await store.updateDeployment(d.id, 1, {
          phase: "Shifting",
          trafficWeight: 20,
          counts: { desired: 4, running: 2 },
          oldTaskDefinitionArn: "arn:aws:ecs:us-east-1:1:task-definition/web:1",
          newTaskDefinitionArn: "arn:aws:ecs:us-east-1:1:task-definition/web:2",
          overrides,
          machineState: { weight: 20 },
        });
        assert.equal(u.version, 2);
        assert.equal(u.phase, "Shifting");
        assert.equal(u.trafficWeight, 20);
        assert.deepEqual(u.counts, { desired: 4, running: 2, pending: 0, failed: 0 });
        assert.deepEqual(u.overrides, overrides);
        assert.deepEqual(u.machineState, { weight: 20 });
        assert.equal(u.updatedAt, d.createdAt + 1000);
        assert.equal(u.finishedAt, null);
        // Fields absent from the patch are left alone; null clears.
        const v = await store.updateDeployment(d.id, 2, { trafficWeight: null, counts: { failed: 1 } });
        assert.equal(v.trafficWeight, null);
        assert.deepEqual(v.counts, { desired: 4, running: 2, pending: 0, failed: 1 });
        assert.deepEqual(v.machineState, { weight: 20 });
      });

      test("a machine state reads back whole, whichever of its members changed, were added or went away", async ({ store }) => {
        // A spec large enough to be kept apart from the members that change every step.
        const spec = { object: "dev/web/web", taskdef: { family: "web", containerDefinitions: [{ name: "app", image: "web:1", environment: Array.from({ length: 20 }, (_, i) => ({ name: `V${i}`, value: `value ${i}` })) }] } };
        const d = await store.createDeployment(newDeployment({ machineState: { machine: "rolling", spec, step: "register" } }));
        assert.deepEqual(d.machineState, { machine: "rolling", spec, step: "register" });
        const steps: Record<string, unknown>[] = [
          { machine: "rolling", spec, step: "update", deadline: 5 },
          { machine: "rolling", spec, step: "follow", deadline: 5, counts: { running: 2 } },
          { machine: "rolling", spec: { ...spec, object: "dev/web/other" }, step: "follow", counts: { running: 3 } },
          JSON.parse('{"machine": "rolling", "step": "done", "__proto__": {"still": "data, not a prototype", "pad": "' + "p".repeat(300) + '"}}') as Record<string, unknown>,
          { machine: "rolling", spec, step: "again", big: "x".repeat(400) },
        ];
        let version = d.version;
        for (const machineState of steps) {
          const u = await store.updateDeployment(d.id, version, { machineState, counts: { running: version } });
          version = u.version;
          assert.deepEqual(u.machineState, machineState);
          assert.deepEqual((await store.getDeployment(d.id))?.machineState, machineState);
          const withoutState = await store.updateDeployment(d.id, version, { message: `step ${version}` });
          version = withoutState.version;
          assert.deepEqual(withoutState.machineState, machineState, "an update without a state leaves it as it was");
        }
        assert.deepEqual((await store.activeDeployments()).find((x) => x.id === d.id)?.machineState, steps.at(-1));
        for (const machineState of [null, 42, ["a", { b: "y".repeat(300) }]]) {
          const u = await store.updateDeployment(d.id, version, { machineState });
          version = u.version;
          assert.deepEqual((await store.getDeployment(d.id))?.machineState, machineState);
        }
      });

      test("a machine state that loses its version race leaves the stored state whole", async ({ store }) => {
        const spec = { taskdef: "t".repeat(500) };
        const d = await store.createDeployment(newDeployment({ machineState: { spec, step: 1 } }));
        await store.updateDeployment(d.id, 1, { machineState: { spec, step: 2 } });
        await assert.rejects(store.updateDeployment(d.id, 1, { machineState: { spec: { taskdef: "other" }, step: 99 } }), VersionConflictError);
        assert.deepEqual((await store.getDeployment(d.id))?.machineState, { spec, step: 2 });
      });

      test("a terminal phase sets finishedAt and freezes the record", async ({ store, clock }) => {
        const d = await store.createDeployment(newDeployment());
        clock.advance(5000);
        const done = await store.updateDeployment(d.id, 1, { phase: "Failed", reason: "CircuitBreakerTripped", message: "5 tasks failed" });
        assert.equal(done.finishedAt, clock.now());
        assert.equal(done.reason, "CircuitBreakerTripped");
        await assert.rejects(store.updateDeployment(d.id, 2, { phase: "Deploying" }), code("FLT-STORE-DEPLOYMENT-FINISHED"));
        // Late events may still be appended to a finished deployment's timeline.
        const [late] = await store.appendEvents(d.id, [{ type: "notified", message: "webhook sent" }]);
        assert.equal(late?.seq, 1);
      });

      test("a stale version fails with a typed conflict and writes nothing", async ({ store }) => {
        const d = await store.createDeployment(newDeployment());
        await store.updateDeployment(d.id, 1, { phase: "Registering" }, [{ type: "phase", message: "registering" }]);
        await assert.rejects(
          store.updateDeployment(d.id, 1, { phase: "Failed" }, [{ type: "phase", message: "should not appear" }]),
          (e: unknown) => {
            assert.ok(e instanceof VersionConflictError);
            assert.equal(e.code, "FLT-STORE-CONFLICT");
            assert.equal(e.expectedVersion, 1);
            assert.equal(e.actualVersion, 2);
            return true;
          },
        );
        const now = await store.getDeployment(d.id);
        assert.equal(now?.phase, "Registering");
        assert.equal(now?.version, 2);
        assert.deepEqual((await store.listEvents(d.id)).map((e) => e.message), ["registering"]);
        await assert.rejects(store.updateDeployment("missing", 1, {}), code("FLT-STORE-NOT-FOUND"));
      });

      test("of two concurrent updates from the same version exactly one wins", async ({ store, openPeer, concurrentPeer }) => {
        const d = await store.createDeployment(newDeployment());
        const peer = openPeer && concurrentPeer ? await openPeer() : store;
        try {
          const results = await Promise.allSettled([
            store.updateDeployment(d.id, 1, { phase: "Deploying" }, [{ type: "a", message: "first" }]),
            peer.updateDeployment(d.id, 1, { phase: "Aborted" }, [{ type: "b", message: "second" }]),
          ]);
          const won = results.filter((r) => r.status === "fulfilled");
          const lost = results.filter((r) => r.status === "rejected");
          assert.equal(won.length, 1);
          assert.equal(lost.length, 1);
          assert.ok(lost[0]?.status === "rejected" && lost[0].reason instanceof VersionConflictError);
          assert.equal((await store.listEvents(d.id)).length, 1);
        } finally {
          if (peer !== store) await peer.close();
        }
      });

      test("a service has at most one active deployment", async ({ store }) => {
        const first = await store.createDeployment(newDeployment({ service: "web", object: "dev/web/web" }));
        await assert.rejects(store.createDeployment(newDeployment({ service: "web", object: "dev/web2/web" })), (e: unknown) => {
          assert.ok(e instanceof ActiveDeploymentError);
          assert.equal(e.code, "FLT-STORE-ACTIVE-DEPLOYMENT");
          assert.equal(e.activeDeploymentId, first.id);
          return true;
        });
        // The same name in another cluster is another service.
        await store.createDeployment(newDeployment({ service: "web", cluster: "prod" }));
        await store.updateDeployment(first.id, 1, { phase: "Succeeded" });
        const next = await store.createDeployment(newDeployment({ service: "web", object: "dev/web/web" }));
        assert.equal(next.phase, "Pending");
      });

      test("activeDeployments lists the non-terminal ones, oldest first", async ({ store, clock }) => {
        const a = await store.createDeployment(newDeployment());
        clock.advance(1);
        const b = await store.createDeployment(newDeployment());
        clock.advance(1);
        const c = await store.createDeployment(newDeployment());
        await store.updateDeployment(b.id, 1, { phase: "RolledBack" });
        await store.updateDeployment(c.id, 1, { phase: "RollingBack" });
        assert.deepEqual((await store.activeDeployments()).map((d) => d.id), [a.id, c.id]);
      });

      test("ids sort by creation time even within one millisecond", async ({ store }) => {
        const ids: string[] = [];
        for (let i = 0; i < 20; i++) ids.push((await store.createDeployment(newDeployment())).id);
        assert.deepEqual([...ids].sort(), ids);
        assert.deepEqual((await store.listDeployments({ limit: 100 })).items.map((d) => d.id), [...ids].reverse());
      });
    });

    describe("events", () => {
      test("events keep their order across updates and appends, with afterSeq for streaming", async ({ store, clock }) => {
        const d = await store.createDeployment(newDeployment(), [{ type: "created", message: "e1" }]);
        clock.advance(10);
        await store.updateDeployment(d.id, 1, { phase: "Registering" }, [
          { type: "phase", message: "e2", data: { phase: "Registering" } },
          { type: "aws", message: "e3", data: { call: "RegisterTaskDefinition" } },
        ]);
        clock.advance(10);
        await store.appendEvents(d.id, [{ type: "note", message: "e4" }]);
        await store.updateDeployment(d.id, 2, {}, [{ type: "poll", message: "e5" }]);
        const events = await store.listEvents(d.id);
        assert.deepEqual(events.map((e) => e.message), ["e1", "e2", "e3", "e4", "e5"]);
        assert.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4, 5]);
        assert.deepEqual(events[1]?.data, { phase: "Registering" });
        assert.equal(events[0]?.data, null);
        assert.equal(events[3]?.at, (events[0]?.at ?? 0) + 20);
        assert.deepEqual((await store.listEvents(d.id, { afterSeq: 3 })).map((e) => e.message), ["e4", "e5"]);
        assert.deepEqual((await store.listEvents(d.id, { afterSeq: 1, limit: 2 })).map((e) => e.seq), [2, 3]);
        assert.deepEqual(await store.listEvents(d.id, { afterSeq: 5 }), []);
        await assert.rejects(store.appendEvents("missing", [{ type: "x", message: "y" }]), code("FLT-STORE-NOT-FOUND"));
      });

      test("concurrent appends get distinct, gapless sequence numbers", async ({ store, openPeer, concurrentPeer }) => {
        const d = await store.createDeployment(newDeployment());
        const peer = openPeer && concurrentPeer ? await openPeer() : store;
        try {
          await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              (i % 2 === 0 ? store : peer).appendEvents(d.id, [
                { type: "t", message: `${i}a` },
                { type: "t", message: `${i}b` },
              ]),
            ),
          );
        } finally {
          if (peer !== store) await peer.close();
        }
        const events = await store.listEvents(d.id);
        assert.deepEqual(events.map((e) => e.seq), Array.from({ length: 20 }, (_, i) => i + 1));
        // Each append's two events stay adjacent.
        for (let i = 0; i < 20; i += 2) assert.equal(events[i]!.message.replace("a", "b"), events[i + 1]!.message);
      });
    });

    describe("queries", () => {
      async function seed(store: Store, clock: TestClock): Promise<Deployment[]> {
        const specs = [
          { object: "dev/web/web", service: "web", commitSha: "c1", region: "us-east-1", cluster: "dev", repository: "infra" },
          { object: "dev/api/api", service: "api", commitSha: "c1", region: "us-east-1", cluster: "dev", repository: "infra" },
          { object: "prod/web/web", service: "web", commitSha: "c1", region: "eu-west-1", cluster: "prod", repository: "infra" },
          { object: "dev/web/web", service: "web", commitSha: "c2", region: "us-east-1", cluster: "dev", repository: "infra" },
          { object: "other/job/job", service: "job", commitSha: "x9", region: "us-east-1", cluster: "dev", repository: "other" },
          { object: "dev/web/web", service: "web", commitSha: "c3", region: "us-east-1", cluster: "dev", repository: "infra" },
        ];
        const out: Deployment[] = [];
        for (const [i, spec] of specs.entries()) {
          clock.advance(1000);
          const d = await store.createDeployment(newDeployment(spec));
          // All but the last finish, alternating outcomes.
          out.push(i === specs.length - 1 ? d : await store.updateDeployment(d.id, 1, { phase: i % 2 === 0 ? "Succeeded" : "Failed" }));
        }
        return out;
      }

      test("filters by repository, commit, region, cluster, service, object, phase and activity", async ({ store, clock }) => {
        const all = await seed(store, clock);
        const ids = (ds: Deployment[]): string[] => ds.map((d) => d.id);
        const pick = (...idx: number[]): string[] => idx.map((i) => all[i]!.id);
        assert.deepEqual(ids((await store.listDeployments()).items), pick(5, 4, 3, 2, 1, 0));
        assert.deepEqual(ids((await store.listDeployments({ repository: "other" })).items), pick(4));
        assert.deepEqual(ids((await store.listDeployments({ commitSha: "c1" })).items), pick(2, 1, 0));
        assert.deepEqual(ids((await store.listDeployments({ region: "eu-west-1" })).items), pick(2));
        assert.deepEqual(ids((await store.listDeployments({ cluster: "dev", service: "web" })).items), pick(5, 3, 0));
        assert.deepEqual(ids((await store.listDeployments({ object: "dev/web/web" })).items), pick(5, 3, 0));
        assert.deepEqual(ids((await store.listDeployments({ phase: "Failed" })).items), pick(3, 1));
        assert.deepEqual(ids((await store.listDeployments({ phase: ["Failed", "Pending"] })).items), pick(5, 3, 1));
        assert.deepEqual(ids((await store.listDeployments({ phase: [] })).items), []);
        assert.deepEqual(ids((await store.listDeployments({ active: true })).items), pick(5));
        assert.deepEqual(ids((await store.listDeployments({ active: false, repository: "infra", commitSha: "c1" })).items), pick(2, 1, 0));
        await assert.rejects(store.listDeployments({ phase: "Shifting 20%" as never }), code("FLT-STORE-INVALID"));
      });

      test("pages newest first with a before-cursor, without gaps or repeats", async ({ store, clock }) => {
        const all = await seed(store, clock);
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        for (;;) {
          const page = await store.listDeployments({ limit: 4, ...(cursor ? { before: cursor } : {}) });
          seen.push(...page.items.map((d) => d.id));
          pages += 1;
          if (page.nextCursor === null) break;
          cursor = page.nextCursor;
        }
        assert.equal(pages, 2);
        assert.deepEqual(seen, all.map((d) => d.id).reverse());
        const exact = await store.listDeployments({ limit: 6 });
        assert.equal(exact.nextCursor, null, "a page that holds the rest has no next cursor");
        const filtered = await store.listDeployments({ object: "dev/web/web", limit: 1, before: all[5]!.id });
        assert.deepEqual(filtered.items.map((d) => d.id), [all[3]!.id]);
        assert.equal(filtered.nextCursor, all[3]!.id);
      });

      test("latest deployment per object", async ({ store, clock }) => {
        const all = await seed(store, clock);
        assert.equal((await store.latestDeployment("dev/web/web"))?.id, all[5]!.id);
        assert.equal((await store.latestDeployment("dev/web/web", "infra"))?.id, all[5]!.id);
        assert.equal(await store.latestDeployment("dev/web/web", "other"), undefined);
        assert.equal(await store.latestDeployment("nope"), undefined);
        const latest = await store.latestPerObject();
        assert.deepEqual(latest.map((d) => d.id), [all[5]!.id, all[4]!.id, all[2]!.id, all[1]!.id]);
        assert.deepEqual((await store.latestPerObject({ repository: "infra", region: "us-east-1" })).map((d) => d.id), [all[5]!.id, all[1]!.id]);
      });
    });

    describe("operator controls", () => {
      test("a control requested by one caller is seen and consumed once by the runner", async ({ store, clock, openPeer }) => {
        const d = await store.createDeployment(newDeployment({ strategy: "bluegreen" }));
        const cli = openPeer ? await openPeer() : store;
        try {
          clock.advance(100);
          const pause = await cli.requestControl(d.id, "pause", "token:ops");
          clock.advance(100);
          const promote = await cli.requestControl(d.id, "promote", "alice");
          assert.equal(pause.requestedBy, "token:ops");
          assert.equal(pause.requestedAt, d.createdAt + 100);
          assert.equal(pause.consumedAt, null);
          assert.deepEqual((await store.pendingControls(d.id)).map((c) => c.action), ["pause", "promote"]);
          assert.deepEqual(await store.deploymentsWithPendingControls(), [d.id], "one look for every waiting deployment");
          assert.equal(await store.consumeControl(pause.id), true);
          assert.equal(await cli.consumeControl(pause.id), false, "a control is consumed once");
          // Consuming together with the update it causes: both or neither.
          await store.updateDeployment(d.id, 1, { phase: "Baking" }, [{ type: "control", message: "promoted by alice" }], {
            consumeControls: [promote.id],
          });
          assert.deepEqual(await store.pendingControls(d.id), []);
          assert.deepEqual(await store.deploymentsWithPendingControls(), []);
          const history = await store.listControls(d.id);
          assert.deepEqual(history.map((c) => [c.action, c.consumedAt]), [["pause", clock.now()], ["promote", clock.now()]]);
        } finally {
          if (cli !== store) await cli.close();
        }
      });

      test("a control rolled back with a conflicting update stays pending", async ({ store }) => {
        const d = await store.createDeployment(newDeployment());
        const abort = await store.requestControl(d.id, "abort", "bob");
        await store.updateDeployment(d.id, 1, { phase: "Deploying" });
        await assert.rejects(store.updateDeployment(d.id, 1, { phase: "Aborted" }, [], { consumeControls: [abort.id] }));
        assert.deepEqual((await store.pendingControls(d.id)).map((c) => c.id), [abort.id]);
      });

      test("controls are refused for unknown and finished deployments", async ({ store }) => {
        await assert.rejects(store.requestControl("missing", "abort", "bob"), code("FLT-STORE-NOT-FOUND"));
        const d = await store.createDeployment(newDeployment());
        await store.updateDeployment(d.id, 1, { phase: "Succeeded" });
        await assert.rejects(store.requestControl(d.id, "promote", "bob"), code("FLT-STORE-DEPLOYMENT-FINISHED"));
        await assert.rejects(store.requestControl(d.id, "explode" as never, "bob"), code("FLT-STORE-INVALID"));
      });
    });

    describe("leases", () => {
      test("acquire, hold against others, renew, expire, and be taken over", async ({ store, clock, openPeer }) => {
        const key = repositoryLeaseKey("infra", "main");
        const other = openPeer ? await openPeer() : store;
        try {
          const a = await store.acquireLease(key, "replica-a", 30_000);
          assert.deepEqual(a, { key, holder: "replica-a", acquiredAt: clock.now(), expiresAt: clock.now() + 30_000, epoch: 1 });
          assert.equal(await other.acquireLease(key, "replica-b", 30_000), undefined, "held by a");
          assert.equal(await other.renewLease(key, "replica-b", 30_000), undefined);
          assert.equal(await other.releaseLease(key, "replica-b"), false);

          clock.advance(20_000);
          const renewed = await store.renewLease(key, "replica-a", 30_000);
          assert.equal(renewed?.expiresAt, clock.now() + 30_000);
          const again = await store.acquireLease(key, "replica-a", 30_000);
          assert.equal(again?.epoch, 1, "re-acquiring our own lease keeps its epoch");
          assert.equal(again?.acquiredAt, a?.acquiredAt);

          clock.advance(29_999);
          assert.equal(await other.acquireLease(key, "replica-b", 30_000), undefined, "not yet expired");
          clock.advance(1);
          assert.equal(await store.getLease(key), undefined, "expired leases read as free");
          assert.equal(await store.renewLease(key, "replica-a", 30_000), undefined, "an expired lease cannot be renewed");
          const stolen = await other.acquireLease(key, "replica-b", 30_000);
          assert.equal(stolen?.holder, "replica-b");
          assert.equal(stolen?.epoch, 2, "the fencing epoch grows when the lease changes hands");
          assert.equal((await store.getLease(key))?.holder, "replica-b");
          assert.equal(await store.releaseLease(key, "replica-a"), false, "the old holder cannot release it");
          assert.equal(await other.releaseLease(key, "replica-b"), true);
          assert.equal(await other.releaseLease(key, "replica-b"), false, "already released");
          assert.equal(await store.getLease(key), undefined);
          assert.equal((await store.acquireLease(key, "replica-a", 1000))?.epoch, 3, "the epoch never goes back, even after a release");
          await assert.rejects(store.acquireLease(key, "replica-a", 0), code("FLT-STORE-INVALID"));
        } finally {
          if (other !== store) await other.close();
        }
      });

      test("of many simultaneous acquirers exactly one wins", async ({ store, openPeer, concurrentPeer }) => {
        const other = openPeer && concurrentPeer ? await openPeer() : store;
        try {
          const results = await Promise.all(
            Array.from({ length: 8 }, (_, i) => (i % 2 ? other : store).acquireLease("repository:infra:main", `r${i}`, 60_000)),
          );
          assert.equal(results.filter((r) => r !== undefined).length, 1);
        } finally {
          if (other !== store) await other.close();
        }
      });
    });

    describe("deployment ownership and fencing", () => {
      const fenced = code("FLT-STORE-FENCED");

      test("the creator owns a deployment with token 1; only its fenced writes are taken", async ({ store, clock }) => {
        const d = await store.createDeployment(newDeployment({ owner: { id: "a#1", ttlMs: 30_000 } }));
        assert.deepEqual(d.owner, { id: "a#1", token: 1, expiresAt: clock.now() + 30_000 });
        assert.deepEqual(await store.getDeployment(d.id), d);
        const u = await store.updateDeployment(d.id, 1, { phase: "Deploying" }, [], { fence: { owner: "a#1", token: 1 } });
        assert.equal(u.phase, "Deploying");
        assert.deepEqual(u.owner, d.owner, "a state write leaves the ownership alone");
        await assert.rejects(store.updateDeployment(d.id, 2, { phase: "Stabilizing" }), fenced, "no token while a live owner holds it");
        await assert.rejects(store.updateDeployment(d.id, 2, { phase: "Stabilizing" }, [], { fence: { owner: "b#1", token: 1 } }), fenced, "another process");
        await assert.rejects(store.updateDeployment(d.id, 2, { phase: "Stabilizing" }, [], { fence: { owner: "a#1", token: 2 } }), fenced, "a token that is not the current one");
        assert.equal((await store.getDeployment(d.id))?.version, 2, "refused writes change nothing");
        // An unowned deployment (one written before ownership existed) takes unfenced writes.
        const legacy = await store.createDeployment(newDeployment());
        assert.equal(legacy.owner, null);
        assert.equal((await store.updateDeployment(legacy.id, 1, { phase: "Deploying" })).version, 2);
      });

      test("a live owner keeps the deployment; an expired one is adopted with a new token, and its stale writes are refused", async ({ store, clock, openPeer }) => {
        const other = openPeer ? await openPeer() : store;
        try {
          const d = await store.createDeployment(newDeployment({ owner: { id: "a#1", ttlMs: 30_000 } }));
          assert.equal(await other.acquireDeployment(d.id, "b#1", 30_000), undefined, "a live owner's deployment is never taken");
          assert.deepEqual((await other.activeDeployments({ orphaned: true })).map((x) => x.id), [], "nor listed as orphaned");
          clock.advance(29_999);
          assert.equal(await other.acquireDeployment(d.id, "b#1", 30_000), undefined, "not yet expired");
          clock.advance(1);
          assert.deepEqual((await other.activeDeployments({ orphaned: true })).map((x) => x.id), [d.id], "orphaned once the lease expired");
          let previous: unknown;
          const adopted = await other.acquireDeployment(d.id, "b#1", 30_000, (p) => {
            previous = p;
            return [{ type: "Adopted", message: "adopted by b#1", data: { owner: "b#1", previous: p } }];
          });
          assert.deepEqual(adopted?.owner, { id: "b#1", token: 2, expiresAt: clock.now() + 30_000 });
          assert.deepEqual(previous, { id: "a#1", token: 1, expiresAt: clock.now() });
          assert.deepEqual((await store.listEvents(d.id)).map((e) => e.type), ["Adopted"], "the adoption is on the timeline, written with it");
          assert.deepEqual(adopted?.version, d.version, "ownership is not a state change");
          await assert.rejects(store.updateDeployment(d.id, 1, { phase: "Deploying" }, [], { fence: { owner: "a#1", token: 1 } }), fenced, "the old owner's write is refused");
          await assert.rejects(store.updateDeployment(d.id, 1, { phase: "Deploying" }), fenced);
          assert.equal((await other.updateDeployment(d.id, 1, { phase: "Deploying" }, [], { fence: { owner: "b#1", token: 2 } })).phase, "Deploying");
          assert.equal(await store.acquireDeployment(d.id, "a#1", 30_000), undefined, "the old owner cannot take it back while b is live");
          assert.deepEqual(await store.renewDeployments("a#1", [d.id], 30_000), [], "nor renew it");
        } finally {
          if (other !== store) await other.close();
        }
      });

      test("renewal is the heartbeat: one call extends every lease the owner holds", async ({ store, clock }) => {
        const mine = await Promise.all([1, 2, 3].map(() => store.createDeployment(newDeployment({ owner: { id: "a#1", ttlMs: 10_000 } }))));
        const theirs = await store.createDeployment(newDeployment({ owner: { id: "b#1", ttlMs: 10_000 } }));
        const done = await store.createDeployment(newDeployment({ owner: { id: "a#1", ttlMs: 10_000 } }));
        await store.updateDeployment(done.id, 1, { phase: "Succeeded" }, [], { fence: { owner: "a#1", token: 1 } });
        clock.advance(9_000);
        const renewed = await store.renewDeployments("a#1", [...mine, theirs, done].map((d) => d.id), 10_000);
        assert.deepEqual(renewed.sort(), mine.map((d) => d.id).sort(), "only our active deployments");
        clock.advance(9_000);
        assert.deepEqual((await store.activeDeployments({ orphaned: true })).map((d) => d.id), [theirs.id], "ours were renewed, b's expired");
        const ended = await store.getDeployment(done.id);
        assert.ok(ended!.owner!.expiresAt <= ended!.finishedAt!, "the lease ends with the deployment");
        assert.equal(await store.acquireDeployment(done.id, "b#1", 10_000), undefined, "a finished deployment has nothing to own");
        assert.deepEqual(await store.renewDeployments("a#1", [], 10_000), []);
        await assert.rejects(store.renewDeployments("a#1", [mine[0]!.id], 0), code("FLT-STORE-INVALID"));
      });

      test("our own live lease re-acquired keeps its token; released, the next acquisition gets a new one at once", async ({ store, clock }) => {
        const d = await store.createDeployment(newDeployment({ owner: { id: "a#1", ttlMs: 30_000 } }));
        clock.advance(1000);
        const again = await store.acquireDeployment(d.id, "a#1", 30_000, () => [{ type: "Adopted", message: "x" }]);
        assert.deepEqual(again?.owner, { id: "a#1", token: 1, expiresAt: clock.now() + 30_000 });
        assert.equal((await store.listEvents(d.id)).length, 0, "a renewal is not an adoption");
        assert.equal(await store.releaseDeployment(d.id, { owner: "a#1", token: 2 }), false, "only with the current token");
        assert.equal(await store.releaseDeployment(d.id, { owner: "a#1", token: 1 }, [{ type: "Released", message: "a#1 stopped" }]), true);
        assert.equal(await store.releaseDeployment(d.id, { owner: "a#1", token: 1 }), false, "already released");
        assert.deepEqual((await store.listEvents(d.id)).map((e) => e.type), ["Released"]);
        assert.deepEqual((await store.activeDeployments({ orphaned: true })).map((x) => x.id), [d.id], "released means orphaned now, not after the TTL");
        const b = await store.acquireDeployment(d.id, "b#1", 30_000);
        assert.equal(b?.owner?.token, 2);
        const back = await store.acquireDeployment(d.id, "a#1", 1, undefined).catch((e: unknown) => e);
        assert.equal(back, undefined);
        clock.advance(30_000);
        assert.equal((await store.acquireDeployment(d.id, "a#1", 30_000))?.owner?.token, 3, "the token never goes back");
        await assert.rejects(store.acquireDeployment("nope", "a#1", 30_000), code("FLT-STORE-NOT-FOUND"));
      });

      test("of many simultaneous adopters exactly one wins", async ({ store, clock, openPeer, concurrentPeer }) => {
        const other = openPeer && concurrentPeer ? await openPeer() : store;
        try {
          const d = await store.createDeployment(newDeployment({ owner: { id: "dead#1", ttlMs: 1000 } }));
          clock.advance(1000);
          const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? other : store).acquireDeployment(d.id, `r${i}#1`, 60_000, () => [{ type: "Adopted", message: `r${i}` }])));
          const winners = results.filter((r) => r !== undefined);
          assert.equal(winners.length, 1);
          assert.equal(winners[0]!.owner!.token, 2);
          assert.equal((await store.listEvents(d.id)).length, 1, "one adoption on the timeline");
        } finally {
          if (other !== store) await other.close();
        }
      });
    });

    describe("API tokens", () => {
      test("tokens are verified by hash and never listed", async ({ store, clock }) => {
        const { token, record } = await store.createToken("ci", "operator");
        assert.match(token, /^flt_[A-Za-z0-9_-]{43}$/);
        assert.deepEqual(record, { name: "ci", role: "operator", createdAt: clock.now(), lastUsedAt: null });
        await store.createToken("viewer", "read-only", "a-supplied-token-of-enough-length");
        clock.advance(5);
        assert.deepEqual(await store.verifyToken(token), { name: "ci", role: "operator", createdAt: clock.now() - 5, lastUsedAt: clock.now() });
        assert.equal((await store.verifyToken("a-supplied-token-of-enough-length"))?.role, "read-only");
        assert.equal(await store.verifyToken(token.slice(0, -1)), undefined);
        assert.equal(await store.verifyToken(""), undefined);
        const listed = await store.listTokens();
        assert.deepEqual(listed.map((t) => t.name), ["ci", "viewer"]);
        assert.ok(!JSON.stringify(listed).includes(token), "no token value in listings");
        assert.equal(listed[0]?.lastUsedAt, clock.now());
        assert.equal(await store.revokeToken("ci"), true);
        assert.equal(await store.verifyToken(token), undefined);
        assert.equal(await store.revokeToken("ci"), false);
      });

      test("rotating a token: the old value stops working at once, name and role stay", async ({ store }) => {
        const { token: old } = await store.createToken("ci", "operator");
        await store.createToken("viewer", "read-only", "a-supplied-token-of-enough-length");
        const { token, record } = await store.rotateToken("ci");
        assert.notEqual(token, old);
        assert.match(token, /^flt_/);
        assert.equal(record.name, "ci");
        assert.equal(record.role, "operator");
        assert.equal(await store.verifyToken(old), undefined);
        assert.equal((await store.verifyToken(token))?.name, "ci");
        const supplied = await store.rotateToken("ci", "another-supplied-token-value");
        assert.equal(supplied.token, "another-supplied-token-value");
        assert.equal(await store.verifyToken(token), undefined);
        assert.equal((await store.verifyToken("another-supplied-token-value"))?.role, "operator");
        await assert.rejects(store.rotateToken("nope"), code("FLT-STORE-NOT-FOUND"));
        await assert.rejects(store.rotateToken("ci", "short"), code("FLT-STORE-INVALID"));
        await assert.rejects(store.rotateToken("ci", "a-supplied-token-of-enough-length"), code("FLT-STORE-DUPLICATE"));
        assert.equal((await store.verifyToken("another-supplied-token-value"))?.name, "ci", "a refused rotation changes nothing");
      });

      test("token names are unique and roles checked", async ({ store }) => {
        await store.createToken("ci", "operator");
        await assert.rejects(store.createToken("ci", "read-only"), code("FLT-STORE-DUPLICATE"));
        await assert.rejects(store.createToken("x", "admin" as never), code("FLT-STORE-INVALID"));
        await assert.rejects(store.createToken("short", "operator", "abc"), code("FLT-STORE-INVALID"));
      });
    });

    describe("dashboard sessions", () => {
      test("a token is exchanged for a session that stands for it until it expires or is signed out", async ({ store, clock }) => {
        const { token } = await store.createToken("alice", "operator");
        assert.equal(await store.createSession("flt_not-a-token-at-all", 60_000), undefined);
        const created = await store.createSession(token, 60_000);
        assert.ok(created);
        assert.match(created.secret, /^fls_/);
        assert.notEqual(created.secret, token);
        assert.equal(created.session.token.name, "alice");
        assert.equal(created.session.expiresAt, clock.now() + 60_000);
        assert.equal((await store.verifySession(created.secret))?.token.role, "operator");
        assert.equal(await store.verifySession(token), undefined, "the token itself is not a session");
        clock.advance(60_000);
        assert.equal(await store.verifySession(created.secret), undefined, "expired");
        const again = (await store.createSession(token, 60_000))!;
        assert.equal(await store.deleteSession(again.secret), true);
        assert.equal(await store.verifySession(again.secret), undefined, "signed out");
        assert.equal(await store.deleteSession(again.secret), false);
      });

      test("rotating or revoking the token ends its sessions at once", async ({ store }) => {
        const { token } = await store.createToken("alice", "read-only");
        const { token: bobToken } = await store.createToken("bob", "operator");
        const a = (await store.createSession(token, 3_600_000))!;
        const b = (await store.createSession(bobToken, 3_600_000))!;
        await store.rotateToken("alice");
        assert.equal(await store.verifySession(a.secret), undefined);
        assert.equal((await store.verifySession(b.secret))?.token.name, "bob", "other tokens' sessions are untouched");
        await store.revokeToken("bob");
        assert.equal(await store.verifySession(b.secret), undefined);
        // A new token under the old name does not revive the old session.
        await store.createToken("bob", "operator");
        assert.equal(await store.verifySession(b.secret), undefined);
      });
    });

    describe("deployment samples", () => {
      test("samples are kept per deployment in order, and read after a cursor", async ({ store, clock }) => {
        const d = await store.createDeployment(newDeployment({ strategy: "bluegreen" }));
        const other = await store.createDeployment(newDeployment());
        const data = (weight: number) => ({ weights: { "tg-blue": 100 - weight, "tg-green": weight }, sets: [{ role: "green" as const, id: "ts-1", targetGroups: ["tg-green"], desired: 2, running: 2, pending: 0, healthy: 2, failed: 0 }], alarms: [{ name: "5xx", state: "OK" }] });
        const first = await store.appendSample(d.id, data(0));
        clock.advance(1000);
        await store.appendSample(other.id, data(50));
        const second = await store.appendSample(d.id, data(10));
        assert.deepEqual((await store.listSamples(d.id)).map((s) => [s.at - first.at, s.data.weights["tg-green"]]), [[0, 0], [1000, 10]]);
        assert.deepEqual(await store.listSamples(d.id, { afterSeq: first.seq }), [second]);
        assert.deepEqual(await store.listSamples(d.id, { afterSeq: second.seq }), []);
        assert.equal((await store.listSamples(d.id, { limit: 1 })).length, 1);
      });
    });

    describe("commits", () => {
      test("the last processed commit is kept per repository and branch", async ({ store, clock }) => {
        assert.equal(await store.getLastCommit("infra", "main"), undefined);
        await store.setLastCommit("infra", "main", "c1");
        await store.setLastCommit("infra", "release", "r1");
        await store.setLastCommit("other", "main", "o1");
        clock.advance(10);
        await store.setLastCommit("infra", "main", "c2");
        assert.deepEqual(await store.getLastCommit("infra", "main"), { repository: "infra", branch: "main", sha: "c2", processedAt: clock.now() });
        assert.equal((await store.getLastCommit("infra", "release"))?.sha, "r1");
        assert.equal((await store.getLastCommit("other", "main"))?.sha, "o1");
      });

      test("compare-and-set on the last commit detects another worker", async ({ store }) => {
        await store.setLastCommit("infra", "main", "c1", null);
        await assert.rejects(store.setLastCommit("infra", "main", "c1b", null), code("FLT-STORE-CONFLICT"));
        await store.setLastCommit("infra", "main", "c2", "c1");
        await assert.rejects(store.setLastCommit("infra", "main", "c3", "c1"), code("FLT-STORE-CONFLICT"));
        assert.equal((await store.getLastCommit("infra", "main"))?.sha, "c2");
      });
    });

    describe("commit records", () => {
      const A = "a".repeat(40);
      const B = "ab" + "c".repeat(38);
      const record = (sha: string, status: "ok" | "invalid" = "ok") => ({
        repository: "infra",
        branch: "main",
        sha,
        trigger: "poll",
        status,
        errors: status === "invalid" ? 1 : 0,
        warnings: 0,
        objects: [{ object: "dev/web/web", action: status === "invalid" ? ("invalid" as const) : ("deploy" as const), reason: "changed", description: "svcdef changed: deploy", deploymentId: null }],
        problems: status === "invalid" ? [{ code: "FLT-JSON-SYNTAX" as const, severity: "error" as const, object: "dev/web/web", file: "dev/web/web_svcdef.json", line: 6, column: 1, path: "$", message: "invalid JSON" }] : [],
      });

      test("the newest record of a commit is the commit's; records are numbered for the event stream", async ({ store, clock }) => {
        assert.equal(await store.lastCommitRecordSeq(), 0);
        const first = await store.recordCommit(record(A, "invalid"));
        clock.advance(10);
        const second = await store.recordCommit(record(B));
        const again = await store.recordCommit({ ...record(A), trigger: "manual" });
        assert.ok(first.seq < second.seq && second.seq < again.seq);
        assert.equal(await store.lastCommitRecordSeq(), again.seq);
        assert.deepEqual(await store.getCommitRecord("infra", A), again);
        assert.deepEqual(first.problems[0], record(A, "invalid").problems[0]);
        assert.equal(first.processedAt + 10, second.processedAt);
        assert.equal(await store.getCommitRecord("other", A), undefined);
        assert.deepEqual((await store.listCommitRecords({ repository: "infra", shas: [A, B] })).map((r) => [r.sha, r.trigger]), [[A, "manual"], [B, "poll"]]);
        assert.deepEqual((await store.listCommitRecords({ afterSeq: first.seq })).map((r) => r.seq), [second.seq, again.seq]);
        assert.deepEqual((await store.listCommitRecords({ afterSeq: 0, processedAfter: first.processedAt })).map((r) => r.seq), [second.seq, again.seq]);
        assert.deepEqual(await store.listCommitRecords({ shas: [] }), []);
      });

      test("markProcessed writes a commit's record and moves the last processed commit together, or neither", async ({ store, clock }) => {
        const first = await store.markProcessed(record(A), null);
        assert.deepEqual(first.lastCommit, { repository: "infra", branch: "main", sha: A, processedAt: clock.now() });
        assert.deepEqual(await store.getLastCommit("infra", "main"), first.lastCommit);
        assert.deepEqual(await store.getCommitRecord("infra", A), first.record);
        assert.equal(first.record.processedAt, first.lastCommit.processedAt);
        // Refused compare-and-set (null: "none yet", and a stale sha): no record is left behind.
        await assert.rejects(store.markProcessed(record(B), null), code("FLT-STORE-CONFLICT"));
        await assert.rejects(store.markProcessed(record(B), B), code("FLT-STORE-CONFLICT"));
        assert.equal(await store.getCommitRecord("infra", B), undefined);
        assert.equal(await store.lastCommitRecordSeq(), first.record.seq);
        assert.equal((await store.getLastCommit("infra", "main"))?.sha, A);
        const second = await store.markProcessed(record(B), A);
        assert.equal((await store.getLastCommit("infra", "main"))?.sha, B);
        assert.deepEqual(await store.getCommitRecord("infra", B), second.record);
      });

      test("of two workers marking the same commit processed, one writes its record and the other nothing", async ({ store, openPeer, concurrentPeer }) => {
        await store.setLastCommit("infra", "main", A, null);
        const peer = openPeer && concurrentPeer ? await openPeer() : store;
        try {
          const results = await Promise.allSettled([store.markProcessed(record(B), A), peer.markProcessed({ ...record(B), trigger: "webhook" }, A)]);
          assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
          const lost = results.find((r) => r.status === "rejected");
          assert.ok(lost?.status === "rejected" && isStoreError(lost.reason) && lost.reason.code === "FLT-STORE-CONFLICT");
          assert.equal((await store.listCommitRecords({ afterSeq: 0 })).filter((r) => r.sha === B).length, 1);
        } finally {
          if (peer !== store) await peer.close();
        }
      });

      test("keeps at most COMMIT_PROBLEMS_KEPT problems of a record, with exact counts", async ({ store }) => {
        const many = Array.from({ length: COMMIT_PROBLEMS_KEPT + 50 }, (_, i) => ({ code: "FLT-CONFIG-TYPE" as const, severity: "error" as const, message: `problem ${i}` }));
        const r = await store.recordCommit({ ...record(A, "invalid"), errors: many.length, problems: many });
        assert.equal(r.problems.length, COMMIT_PROBLEMS_KEPT);
        assert.equal(r.errors, many.length);
      });

      test("commits are found by a prefix among deployments and records", async ({ store }) => {
        await store.recordCommit(record(A));
        await store.createDeployment(newDeployment({ repository: "infra", commitSha: B }));
        await store.createDeployment(newDeployment({ repository: "other", commitSha: "abd" + "0".repeat(37) }));
        assert.deepEqual(await store.commitsWithPrefix("aaaa"), [A]);
        assert.deepEqual(await store.commitsWithPrefix("abc"), [B]);
        assert.deepEqual(await store.commitsWithPrefix("ab", { limit: 5 }), [B, "abd" + "0".repeat(37)]);
        assert.deepEqual(await store.commitsWithPrefix("ab", { repository: "infra" }), [B]);
        assert.deepEqual(await store.commitsWithPrefix("ff"), []);
        await assert.rejects(store.commitsWithPrefix("a%"), code("FLT-STORE-INVALID"));
      });
    });

    describe("pending deletes", () => {
      const held = (object: string, reason: "deletes-off" | "mass-delete" | "unsafe" = "deletes-off") => ({
        repository: "infra",
        object,
        branch: "main",
        commitSha: "c".repeat(40),
        region: "us-east-1",
        cluster: "main",
        service: object.split("/").pop()!,
        reason,
        code: reason === "unsafe" ? "FLT-CHANGE-DELETE-UNSAFE" : null,
        message: `held: ${reason}`,
        spec: { object, svcdef: { serviceName: "web" } },
      });

      test("held, updated (keeping when first held), listed, removed; removing the repository removes them", async ({ store, clock }) => {
        await store.addRepository({ name: "infra", url: "https://github.com/acme/infra.git", branch: "main" });
        const first = await store.holdDelete(held("dev/web/web"));
        await store.holdDelete({ ...held("dev/api/api"), repository: "other" });
        clock.advance(50);
        const again = await store.holdDelete(held("dev/web/web", "mass-delete"));
        assert.equal(again.heldAt, first.heldAt);
        assert.equal(again.updatedAt, first.heldAt + 50);
        assert.equal(again.reason, "mass-delete");
        assert.deepEqual(again.spec, held("dev/web/web").spec);
        assert.deepEqual(await store.getPendingDelete("infra", "dev/web/web"), again);
        assert.deepEqual((await store.listPendingDeletes()).map((p) => [p.repository, p.object]), [["infra", "dev/web/web"], ["other", "dev/api/api"]]);
        assert.deepEqual((await store.listPendingDeletes({ repository: "other" })).map((p) => p.object), ["dev/api/api"]);
        assert.equal(await store.removePendingDelete("other", "dev/api/api"), true);
        assert.equal(await store.removePendingDelete("other", "dev/api/api"), false);
        await store.removeRepository("infra");
        assert.deepEqual(await store.listPendingDeletes(), []);
      });
    });

    describe("commits held by sync windows", () => {
      const waiting = (sha: string) => ({ repository: "infra", branch: "main", sha, windows: [{ name: "freeze", kind: "deny" as const }], objects: ["prod/web/web"], message: "deny window freeze is open", until: 1_000 });

      test("held (keeping when first held and a release while the sha stays), released only for the held sha, replaced by another sha, removed with the repository", async ({ store, clock }) => {
        await store.addRepository({ name: "infra", url: "https://github.com/acme/infra.git", branch: "main" });
        const first = await store.holdCommit(waiting("a".repeat(40)));
        assert.equal(first.since, clock.now());
        assert.equal(first.releasedBy, null);
        assert.equal(await store.releaseWaitingCommit("infra", "main", "b".repeat(40), "alice"), undefined, "not the held commit");
        clock.advance(10);
        const released = await store.releaseWaitingCommit("infra", "main", "a".repeat(40), "alice");
        assert.deepEqual([released?.releasedBy, released?.releasedAt], ["alice", clock.now()]);
        clock.advance(10);
        const again = await store.holdCommit({ ...waiting("a".repeat(40)), until: null });
        assert.deepEqual([again.since, again.checkedAt, again.releasedBy, again.until], [first.since, clock.now(), "alice", null]);
        const next = await store.holdCommit(waiting("b".repeat(40)));
        assert.deepEqual([next.sha, next.since, next.releasedBy], ["b".repeat(40), clock.now(), null]);
        assert.deepEqual(await store.getWaitingCommit("infra", "main"), next);
        await store.holdCommit({ ...waiting("c".repeat(40)), repository: "other" });
        assert.deepEqual((await store.listWaitingCommits()).map((w) => w.repository), ["infra", "other"]);
        assert.deepEqual((await store.listWaitingCommits({ repository: "other" })).map((w) => w.sha), ["c".repeat(40)]);
        assert.equal(await store.removeWaitingCommit("other", "main", "d".repeat(40)), false, "only the sha given");
        assert.equal(await store.removeWaitingCommit("other", "main"), true);
        await store.removeRepository("infra");
        assert.deepEqual(await store.listWaitingCommits(), []);
      });
    });

    describe("activity", () => {
      test("appended with growing numbers; newest first, or after a number oldest first, per repository", async ({ store, clock }) => {
        assert.equal(await store.lastActivitySeq(), 0);
        const a = await store.appendActivity({ type: "commit-waiting", repository: "infra", object: null, sha: "a".repeat(40), message: "held", data: { windows: ["freeze"] } });
        clock.advance(5);
        const b = await store.appendActivity({ type: "drift-detected", repository: "other", object: "dev/web/web", sha: null, message: "drifted", data: null });
        assert.ok(b.seq > a.seq);
        assert.equal(b.at, a.at + 5);
        assert.deepEqual(a.data, { windows: ["freeze"] });
        assert.deepEqual((await store.listActivity()).map((e) => e.seq), [b.seq, a.seq]);
        assert.deepEqual((await store.listActivity({ afterSeq: a.seq })).map((e) => e.type), ["drift-detected"]);
        assert.deepEqual((await store.listActivity({ repository: "infra" })).map((e) => e.type), ["commit-waiting"]);
        assert.equal(await store.lastActivitySeq(), b.seq);
      });
    });

    describe("drift", () => {
      const check = (object: string, status: "in-sync" | "drifted") => ({
        repository: "infra",
        object,
        sha: "a".repeat(40),
        region: "us-east-1",
        cluster: "main",
        service: object.split("/").pop()!,
        status,
        detail: { reasons: status === "drifted" ? ["desiredCount"] : [], service: { changed: status === "drifted", text: "-  desiredCount: 3\n+  desiredCount: 2" }, taskDefinition: { changed: false, text: "" } },
        detectedAt: status === "drifted" ? 5 : null,
        healDeploymentId: null,
        healedAt: null,
      });

      test("put (replacing the object's last check), listed by status, pruned to the objects kept, removed with the repository", async ({ store, clock }) => {
        await store.addRepository({ name: "infra", url: "https://github.com/acme/infra.git", branch: "main" });
        await store.putDrift(check("dev/web/web", "in-sync"));
        clock.advance(7);
        const drifted = await store.putDrift(check("dev/web/web", "drifted"));
        assert.deepEqual([drifted.status, drifted.checkedAt, drifted.detectedAt], ["drifted", clock.now(), 5]);
        assert.deepEqual(drifted.detail, check("dev/web/web", "drifted").detail);
        await store.putDrift(check("dev/api/api", "in-sync"));
        assert.deepEqual(await store.getDrift("infra", "dev/web/web"), drifted);
        assert.deepEqual((await store.listDrift({ status: "drifted" })).map((d) => d.object), ["dev/web/web"]);
        assert.deepEqual((await store.listDrift({ repository: "infra" })).map((d) => d.object), ["dev/api/api", "dev/web/web"]);
        assert.equal(await store.pruneDrift("infra", ["dev/api/api"]), 1);
        assert.deepEqual((await store.listDrift()).map((d) => d.object), ["dev/api/api"]);
        await store.removeRepository("infra");
        assert.deepEqual(await store.listDrift(), []);
      });
    });

    describe("repositories", () => {
      test("add, get, list, update and remove", async ({ store, clock }) => {
        const repo = await store.addRepository({
          name: "infra",
          url: "https://github.com/acme/infra.git",
          branch: "main",
          path: "ecs",
          credentials: "github",
        });
        assert.deepEqual(repo, {
          name: "infra",
          url: "https://github.com/acme/infra.git",
          branch: "main",
          path: "ecs",
          pollIntervalSeconds: 60,
          credentials: "github",
          createdAt: clock.now(),
          updatedAt: clock.now(),
        });
        await store.addRepository({ name: "local", url: "/srv/git/local.git", branch: "main", pollIntervalSeconds: 5 });
        await store.addRepository({ name: "ssh", url: "git@github.com:acme/x.git", branch: "main", credentials: "deploy-key" });
        assert.deepEqual((await store.listRepositories()).map((r) => r.name), ["infra", "local", "ssh"]);
        clock.advance(1);
        const updated = await store.updateRepository("infra", { branch: "release", credentials: "github.app" });
        assert.equal(updated.branch, "release");
        assert.equal(updated.path, "ecs");
        assert.equal(updated.credentials, "github.app");
        assert.equal(updated.updatedAt, clock.now());
        assert.deepEqual(await store.getRepository("infra"), updated);
        assert.equal(await store.removeRepository("infra"), true);
        assert.equal(await store.getRepository("infra"), undefined);
        assert.equal(await store.removeRepository("infra"), false);
        await assert.rejects(store.updateRepository("infra", { branch: "x" }), code("FLT-STORE-NOT-FOUND"));
      });

      test("secrets are refused: credentials only by the name of a configured credential", async ({ store }) => {
        await store.addRepository({ name: "infra", url: "https://github.com/acme/infra.git", branch: "main" });
        await assert.rejects(store.addRepository({ name: "infra", url: "/x", branch: "main" }), code("FLT-STORE-DUPLICATE"));
        for (const url of ["https://x-access-token:ghp_secret@github.com/a/b.git", "https://ghp_secret@github.com/a/b.git", "ssh://git:pw@host/repo"]) {
          await assert.rejects(store.addRepository({ name: "bad", url, branch: "main" }), code("FLT-STORE-INVALID"));
        }
        for (const credentials of ["ghp_abc def", "!touch /tmp/x; echo", "env:GIT_TOKEN", "", { kind: "helper", helper: "store" } as unknown as string]) {
          await assert.rejects(store.addRepository({ name: "bad", url: "/x", branch: "main", credentials }), code("FLT-STORE-INVALID"));
        }
        await assert.rejects(store.addRepository({ name: "bad", url: "/x", branch: "main", pollIntervalSeconds: 0 }), code("FLT-STORE-INVALID"));
        await assert.rejects(store.updateRepository("infra", { url: "https://u:p@github.com/a/b.git" }), code("FLT-STORE-INVALID"));
        // ssh:// with only a user name (git@) carries no secret.
        await store.addRepository({ name: "ok", url: "ssh://git@github.com/acme/infra.git", branch: "main" });
      });
    });
  });
}
