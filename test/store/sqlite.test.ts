import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { DEFAULT_SQLITE_PATH, openSqliteStore, openStore } from "../../src/store/index.ts";
import { Kysely } from "kysely";
import { KyselyStore } from "../../src/store/kysely-store.ts";
import { migrateToLatest } from "../../src/store/migrations.ts";
import { NodeSqliteDialect } from "../../src/store/sqlite-dialect.ts";
import { storeContract } from "./contract.ts";
import { TestClock, newDeployment } from "./fixtures.ts";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "flotilla-store-"));
}

storeContract("SQLite in memory", async () => {
  const clock = new TestClock();
  return { store: await openSqliteStore({ path: ":memory:", clock }), clock, cleanup: () => Promise.resolve() };
});

storeContract("SQLite file", async () => {
  const dir = tempDir();
  const path = join(dir, "state", "flotilla.db");
  const clock = new TestClock();
  return {
    store: await openSqliteStore({ path, clock }),
    clock,
    // A second connection to the same file, as a `flotilla promote` in another process has.
    openPeer: () => openSqliteStore({ path, clock }),
    cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
});

describe("SQLite statements and rows", () => {
  it("prepares a statement once and reuses it", async () => {
    let prepared = 0;
    class CountingDatabase extends DatabaseSync {
      override prepare(sql: string) {
        prepared++;
        return super.prepare(sql);
      }
    }
    const db = new Kysely<unknown>({ dialect: new NodeSqliteDialect(new CountingDatabase(":memory:")) });
    await migrateToLatest(db, "sqlite");
    const store = new KyselyStore(db, "sqlite", new TestClock());
    const d = await store.createDeployment(newDeployment());
    await store.getDeployment(d.id);
    const before = prepared;
    for (let i = 0; i < 50; i++) {
      assert.equal((await store.getDeployment(d.id))?.id, d.id);
      assert.deepEqual(await store.pendingControls(d.id), []);
    }
    assert.equal(prepared - before, 1, "only pendingControls' statement is new");
    const streamed: unknown[] = [];
    for await (const row of db.selectFrom("deployments" as never).select("id" as never).stream()) streamed.push(row);
    assert.deepEqual(streamed.map((r) => ({ ...(r as object) })), [{ id: d.id }], "a stream prepares its own statement");
    await store.close();
  });

  it("a step writes only the machine state's small members; the large ones (the spec) stay in their own column until they change", async () => {
    const dir = tempDir();
    try {
      const path = join(dir, "flotilla.db");
      const store = await openSqliteStore({ path, clock: new TestClock() });
      const spec = { taskdef: { family: "web", containerDefinitions: [{ name: "app", image: "web:1", command: ["x".repeat(300)] }] } };
      const d = await store.createDeployment(newDeployment({ machineState: { spec, step: "register" } }));
      const raw = new DatabaseSync(path);
      const row = () => raw.prepare("select machine_state, machine_base, machine_base_hash from deployments where id = ?").get(d.id)!;
      try {
        const first = row();
        assert.equal(first.machine_state, '{"step":"register"}');
        assert.equal(first.machine_base, JSON.stringify({ spec }));
        await store.updateDeployment(d.id, 1, { machineState: { spec, step: "follow", polls: 1 } });
        assert.equal(row().machine_state, '{"step":"follow","polls":1}');
        assert.equal(row().machine_base_hash, first.machine_base_hash, "the base is not rewritten while it is the same");
        const next = { taskdef: { ...spec.taskdef, family: "web2" } };
        await store.updateDeployment(d.id, 2, { machineState: { spec: next, step: "follow" } });
        assert.equal(row().machine_base, JSON.stringify({ spec: next }));
        assert.notEqual(row().machine_base_hash, first.machine_base_hash);
      } finally {
        raw.close();
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("SQLite store file", () => {
  it("keeps everything across a close and reopen (durability)", async () => {
    const dir = tempDir();
    try {
      const path = join(dir, "flotilla.db");
      const clock = new TestClock();
      const first = await openSqliteStore({ path, clock });
      const d = await first.createDeployment(newDeployment({ machineState: { step: 3 } }), [{ type: "created", message: "hello" }]);
      await first.updateDeployment(d.id, 1, { phase: "Stabilizing" }, [{ type: "phase", message: "stabilizing" }]);
      await first.requestControl(d.id, "pause", "alice");
      await first.setLastCommit("infra", "main", "c1");
      const { token } = await first.createToken("ci", "operator");
      await first.acquireLease("object::dev/web/web", "pid-1", 60_000);
      await first.close();

      const second = await openSqliteStore({ path, clock });
      try {
        const again = await second.getDeployment(d.id);
        assert.equal(again?.phase, "Stabilizing");
        assert.equal(again?.version, 2);
        assert.deepEqual(again?.machineState, { step: 3 });
        assert.deepEqual((await second.activeDeployments()).map((x) => x.id), [d.id], "an interrupted deployment is found on restart");
        assert.deepEqual((await second.listEvents(d.id)).map((e) => e.message), ["hello", "stabilizing"]);
        assert.equal((await second.pendingControls(d.id))[0]?.action, "pause");
        assert.equal((await second.getLastCommit("infra", "main"))?.sha, "c1");
        assert.equal((await second.verifyToken(token))?.name, "ci");
        assert.equal((await second.getLease("object::dev/web/web"))?.holder, "pid-1");
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("applies the migrations once, in WAL mode, and stores no token value", async () => {
    const dir = tempDir();
    try {
      const path = join(dir, "flotilla.db");
      const store = await openSqliteStore({ path });
      const { token } = await store.createToken("ci", "operator");
      const { secret } = (await store.createSession(token, 60_000))!;
      await store.close();
      await (await openSqliteStore({ path })).close();
      const raw = new DatabaseSync(path);
      try {
        assert.deepEqual(raw.prepare("select name from flotilla_migrations order by name").all().map((r) => r.name), ["0001_initial", "0003_sessions_samples", "0004_commit_records_pending_deletes", "0005_machine_base", "0006_windows_activity_drift", "0007_deployment_owners"]);
        assert.equal(raw.prepare("pragma journal_mode").get()?.journal_mode, "wal");
        const hashes = raw.prepare("select token_hash from api_tokens").all().map((r) => String(r.token_hash));
        assert.equal(hashes.length, 1);
        assert.ok(!hashes.includes(token));
        assert.match(hashes[0]!, /^[0-9a-f]{64}$/);
        const sessions = raw.prepare("select id_hash from sessions").all().map((r) => String(r.id_hash));
        assert.equal(sessions.length, 1);
        assert.ok(!sessions.includes(secret));
      } finally {
        raw.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("defaults to .flotilla/flotilla.db under the working directory", async () => {
    const dir = tempDir();
    try {
      const store = await openStore({ cwd: dir });
      assert.equal(store.kind, "sqlite");
      await store.close();
      assert.equal(DEFAULT_SQLITE_PATH, ".flotilla/flotilla.db");
      assert.ok(existsSync(join(dir, ".flotilla", "flotilla.db")));
      const custom = await openStore({ cwd: dir, location: "custom/state.db" });
      await custom.close();
      assert.ok(existsSync(join(dir, "custom", "state.db")));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
