/**
 * Kysely's SQLite dialect on Node's built-in `node:sqlite` (no native build). Kysely's dialect
 * expects better-sqlite3's statement shape; node:sqlite differs in two ways that this adapter
 * bridges: parameters are spread rather than passed as an array, and whether a statement returns
 * rows is read from `columns()` instead of a `reader` flag.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { CompiledQuery, SqliteDialect, SqliteDriver } from "kysely";
import type { DatabaseConnection, Driver, SqliteDatabase, SqliteStatement } from "kysely";

/** Statements kept prepared, by SQL text; the least recently used goes first. */
const STATEMENT_CACHE = 256;

function adaptStatement(db: DatabaseSync, sql: string, stmt: StatementSync): SqliteStatement {
  const args = (parameters: ReadonlyArray<unknown>): SQLInputValue[] => parameters.map(toSqlValue);
  return {
    reader: stmt.columns().length > 0,
    all: (parameters) => stmt.all(...args(parameters)),
    run: (parameters) => stmt.run(...args(parameters)),
    // A stream holds its statement across turns; a shared one would be reset under it.
    iterate: (parameters) => db.prepare(sql).iterate(...args(parameters)),
  };
}

// node:sqlite binds only null, numbers, bigints, strings and bytes.
function toSqlValue(value: unknown): SQLInputValue {
  if (value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  return value as SQLInputValue;
}

/**
 * Preparing is a large part of a small query's cost (the store runs the same few dozen statements
 * over and over), so prepared statements are kept by SQL text. Safe because node:sqlite runs each
 * statement to completion synchronously: no two uses of one statement overlap.
 */
function adaptDatabase(db: DatabaseSync): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      db.close();
    },
    prepare: (sql) => {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql); // most recently used last
      } else {
        stmt = adaptStatement(db, sql, db.prepare(sql));
        if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, stmt);
      return stmt;
    },
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
