/**
 * SQLite shared between processes, as when `flotilla promote` runs beside `flotilla apply`:
 * the other process's writes arrive, and a writer waits out a lock instead of failing.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { openSqliteStore } from "../../src/store/index.ts";
import { TestClock, newDeployment } from "./fixtures.ts";

const storeModule = pathToFileURL(join(import.meta.dirname, "../../src/store/index.ts")).href;

/** Runs an ES module snippet in a fresh Node process; resolves with its stdout. */
function runChild(code: string, onLine?: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of chunk.toString().split("\n")) if (line) onLine?.(line);
    });
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("error", reject);
    child.on("close", (status) => (status === 0 ? resolve(out) : reject(new Error(`child exited ${status}: ${err}`))));
  });
}

describe("SQLite store across processes", () => {
  it("a control requested by another process reaches the running deployment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-store-"));
    const path = join(dir, "flotilla.db");
    const store = await openSqliteStore({ path, clock: new TestClock() });
    try {
      const d = await store.createDeployment(newDeployment({ strategy: "bluegreen" }));
      await runChild(`
        import { openSqliteStore } from ${JSON.stringify(storeModule)};
        const store = await openSqliteStore({ path: ${JSON.stringify(path)} });
        await store.requestControl(${JSON.stringify(d.id)}, "promote", "cli:alice");
        await store.close();
      `);
      const [control] = await store.pendingControls(d.id);
      assert.equal(control?.action, "promote");
      assert.equal(control?.requestedBy, "cli:alice");
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a write waits for another process's write lock instead of failing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-store-"));
    const path = join(dir, "flotilla.db");
    const store = await openSqliteStore({ path, clock: new TestClock() });
    try {
      const d = await store.createDeployment(newDeployment());
      let locked!: () => void;
      const lockTaken = new Promise<void>((resolve) => (locked = resolve));
      // The child holds the write lock for 300 ms, as a long transaction elsewhere would.
      const child = runChild(
        `
        import { DatabaseSync } from "node:sqlite";
        const db = new DatabaseSync(${JSON.stringify(path)});
        db.exec("begin immediate");
        db.exec("update deployments set message = 'child' where id = '${d.id}'");
        console.log("locked");
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
        db.exec("commit");
        db.close();
      `,
        (line) => {
          if (line === "locked") locked();
        },
      );
      await lockTaken;
      const updated = await store.updateDeployment(d.id, 1, { phase: "Deploying" }, [{ type: "phase", message: "deploying" }]);
      assert.equal(updated.phase, "Deploying");
      assert.equal(updated.message, "child", "the update ran after the other process committed");
      await child;
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
