import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { DEFAULT_SQLITE_PATH, openSqliteStore, openStore } from "../../src/store/index.ts";
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
        assert.deepEqual(raw.prepare("select name from flotilla_migrations order by name").all().map((r) => r.name), ["0001_initial", "0003_sessions_samples", "0004_commit_records_pending_deletes"]);
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
