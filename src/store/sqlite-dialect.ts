/**
 * Kysely's SQLite dialect on Node's built-in `node:sqlite` (no native build). Kysely's dialect
 * expects better-sqlite3's statement shape; node:sqlite differs in two ways that this adapter
 * bridges: parameters are spread rather than passed as an array, and whether a statement returns
 * rows is read from `columns()` instead of a `reader` flag.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { CompiledQuery, SqliteDialect, SqliteDriver } from "kysely";
import type { DatabaseConnection, Driver, SqliteDatabase, SqliteStatement } from "kysely";

function adaptStatement(stmt: StatementSync): SqliteStatement {
  const args = (parameters: ReadonlyArray<unknown>): SQLInputValue[] => parameters.map(toSqlValue);
  return {
    reader: stmt.columns().length > 0,
    all: (parameters) => stmt.all(...args(parameters)),
    run: (parameters) => stmt.run(...args(parameters)),
    iterate: (parameters) => stmt.iterate(...args(parameters)),
  };
}

// node:sqlite binds only null, numbers, bigints, strings and bytes.
function toSqlValue(value: unknown): SQLInputValue {
  if (value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  return value as SQLInputValue;
}

function adaptDatabase(db: DatabaseSync): SqliteDatabase {
  return {
    close: () => db.close(),
    prepare: (sql) => adaptStatement(db.prepare(sql)),
  };
}

/**
 * Every store transaction writes, so take the write lock at BEGIN: a deferred transaction that
 * reads first and writes later fails with SQLITE_BUSY when another process (e.g. `flotilla
 * promote` beside a running `apply`) wrote in between, and the busy timeout cannot help it.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

export class NodeSqliteDialect extends SqliteDialect {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    const database = adaptDatabase(db);
    super({ database });
    this.#db = db;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: adaptDatabase(this.#db) });
  }
}
