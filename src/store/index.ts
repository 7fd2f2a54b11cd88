/** Opening a store from configuration: a postgres:// URL, else a SQLite path. */
import { openPostgresStore } from "./postgres.ts";
import { openSqliteStore } from "./sqlite.ts";
import type { Store, StoreClock } from "./store.ts";

export interface StoreLocation {
  /** `postgres://...`/`postgresql://...`, a SQLite file path, `:memory:`, or absent for the default file. */
  location?: string;
  cwd?: string;
  clock?: StoreClock;
}

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

export function openStore(options: StoreLocation = {}): Promise<Store> {
  const { location, cwd, clock } = options;
  if (location !== undefined && isPostgresUrl(location)) {
    return openPostgresStore({ url: location, ...(clock ? { clock } : {}) });
  }
  return openSqliteStore({ ...(location !== undefined ? { path: location } : {}), ...(cwd ? { cwd } : {}), ...(clock ? { clock } : {}) });
}

export { openPostgresStore, openSqliteStore };
export { DEFAULT_SQLITE_PATH } from "./sqlite.ts";
export type { PostgresStoreOptions } from "./postgres.ts";
export type { SqliteStoreOptions } from "./sqlite.ts";
export type { Store, StoreClock, UpdateOptions } from "./store.ts";
export { driftLeaseKey, repositoryLeaseKey } from "./store.ts";
export * from "./errors.ts";
export * from "./types.ts";
