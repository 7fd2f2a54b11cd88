/** PostgreSQL for several controller replicas sharing one state. */
import pg from "pg";
import { Kysely, PostgresDialect, sql } from "kysely";
import { KyselyStore } from "./kysely-store.ts";
import { migrateToLatest } from "./migrations.ts";
import type { Database } from "./schema.ts";
import type { Store, StoreClock } from "./store.ts";
import { SystemClock } from "../core/clock.ts";

export interface PostgresStoreOptions {
  /** `postgres://user@host:5432/db`; a password belongs in PGPASSWORD or ~/.pgpass, not in config files. */
  url: string;
  /** Keep Flotilla's tables in this schema (created if missing); default the connection's search_path. */
  schema?: string;
  clock?: StoreClock;
  poolSize?: number;
  /** Told about errors on idle pooled connections (e.g. a server restart); the pool reconnects. */
  onPoolError?: (error: Error) => void;
}

const INT8_OID = 20;

// Timestamps are epoch ms in bigint columns; pg returns int8 as strings by default. Every value
// we store fits a double exactly, so parse them as numbers, for this pool only.
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary" ? (v: string) => Number(v) : (pg.types.getTypeParser(oid, format) as (v: string) => unknown)) as typeof pg.types.getTypeParser,
};

export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new Error(`Invalid PostgreSQL schema name "${schema}": use lower-case letters, digits and underscores.`);
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    types,
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  });
  // Without a listener, an idle connection's error (server restart, network blip) would be an
  // unhandled 'error' event and crash the controller; the next query simply reconnects.
  pool.on("error", options.onPoolError ?? (() => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    if (schema !== undefined) await ensureSchema(db, schema);
    await migrateToLatest(db as Kysely<unknown>, "postgres");
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return new KyselyStore(db, "postgres", options.clock ?? new SystemClock());
}

// Replicas starting together race on CREATE SCHEMA IF NOT EXISTS (it is not atomic in
// PostgreSQL); the loser's error is harmless when the schema now exists.
async function ensureSchema(db: Kysely<Database>, schema: string): Promise<void> {
  try {
    await db.schema.createSchema(schema).ifNotExists().execute();
  } catch (e) {
    const found = await sql<{ n: number }>`select 1 as n from information_schema.schemata where schema_name = ${schema}`.execute(db);
    if (found.rows.length === 0) throw e;
  }
}
