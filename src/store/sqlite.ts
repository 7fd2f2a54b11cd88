/** The embedded default: one SQLite file under the working directory, on Node's node:sqlite. */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Kysely } from "kysely";
import { KyselyStore } from "./kysely-store.ts";
import { migrateToLatest } from "./migrations.ts";
import type { Database } from "./schema.ts";
import { NodeSqliteDialect } from "./sqlite-dialect.ts";
import type { Store, StoreClock } from "./store.ts";
import { SystemClock } from "../core/clock.ts";

export const DEFAULT_SQLITE_PATH = ".flotilla/flotilla.db";

export interface SqliteStoreOptions {
  /** A file path (relative to `cwd`), or `:memory:` for a throwaway store. Default `.flotilla/flotilla.db`. */
  path?: string;
  cwd?: string;
  clock?: StoreClock;
  /** How long a write waits for another process's write lock before failing. */
  busyTimeoutMs?: number;
}

export async function openSqliteStore(options: SqliteStoreOptions = {}): Promise<Store> {
  const path = resolveSqlitePath(options.path, options.cwd);
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const raw = new DatabaseSync(path);
  try {
    // WAL lets readers (`flotilla status`) run beside the writer; the busy timeout makes a
    // second process (`flotilla promote`) wait for the lock instead of failing at once.
    raw.exec("PRAGMA journal_mode = WAL");
    raw.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    raw.exec("PRAGMA foreign_keys = ON");
  } catch (e) {
    raw.close();
    throw e;
  }
  const db = new Kysely<Database>({ dialect: new NodeSqliteDialect(raw) });
  try {
    await migrateToLatest(db as Kysely<unknown>, "sqlite");
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return new KyselyStore(db, "sqlite", options.clock ?? new SystemClock());
}

export function resolveSqlitePath(path: string | undefined, cwd: string = process.cwd()): string {
  if (path === ":memory:") return path;
  return resolve(cwd, path ?? DEFAULT_SQLITE_PATH);
}

