/**
 * The store contract against PostgreSQL, when FLOTILLA_TEST_POSTGRES_URL names a database the
 * tests may create schemas in (scripts/with-postgres.sh sets one up). Each test gets a schema
 * of its own, dropped afterwards.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import pg from "pg";
import { openPostgresStore, openStore } from "../../src/store/index.ts";
import { storeContract } from "./contract.ts";
import { TestClock, newDeployment } from "./fixtures.ts";

const url = process.env.FLOTILLA_TEST_POSTGRES_URL;

async function dropSchema(connectionString: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}

function freshSchema(): string {
  return `flotilla_test_${randomBytes(6).toString("hex")}`;
}

if (url === undefined || url === "") {
  describe("PostgreSQL store", () => {
    it("PostgreSQL store contract skipped: set FLOTILLA_TEST_POSTGRES_URL (see scripts/with-postgres.sh)", { skip: true }, () => {});
  });
} else {
  storeContract("PostgreSQL", async () => {
    const schema = freshSchema();
    const clock = new TestClock();
    return {
      store: await openPostgresStore({ url, schema, clock }),
      clock,
      // A second replica on the same database.
      openPeer: () => openPostgresStore({ url, schema, clock }),
      concurrentPeer: true,
      cleanup: () => dropSchema(url, schema),
    };
  });

  describe("PostgreSQL store setup", () => {
    it("replicas opening a new schema together apply the migrations once", async () => {
      const schema = freshSchema();
      const clock = new TestClock();
      try {
        const replicas = await Promise.all([1, 2, 3].map(() => openPostgresStore({ url, schema, clock })));
        const d = await replicas[0]!.createDeployment(newDeployment());
        assert.equal((await replicas[2]!.getDeployment(d.id))?.id, d.id);
        await Promise.all(replicas.map((r) => r.close()));
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          const res = await client.query<{ name: string }>(`select name from ${schema}.flotilla_migrations order by name`);
          assert.deepEqual(res.rows.map((r) => r.name), ["0001_initial", "0003_sessions_samples", "0004_commit_records_pending_deletes", "0005_machine_base", "0006_windows_activity_drift", "0007_deployment_owners"]);
        } finally {
          await client.end();
        }
      } finally {
        await dropSchema(url, schema);
      }
    });

    it("openStore picks PostgreSQL for a postgres:// URL", async () => {
      const store = await openStore({ location: url });
      try {
        assert.equal(store.kind, "postgres");
      } finally {
        await store.close();
      }
    });
  });
}
