/**
 * Versioned schema migrations, defined in code and applied on open by Kysely's Migrator (which
 * locks, so replicas starting together apply each one once). Never edit a released migration:
 * add the next one. The few dialect differences are passed in rather than guessed.
 */
import { inspect } from "node:util";
import { sql } from "kysely";
import { Migrator } from "kysely/migration";
import type { Kysely } from "kysely";
import type { Migration, MigrationProvider } from "kysely/migration";

export type SqlDialect = "sqlite" | "postgres";

export function migrations(dialect: SqlDialect): Record<string, Migration> {
  // Ids must sort bytewise for cursors; PostgreSQL's default collation may not.
  const sortableText = dialect === "postgres" ? sql`text collate "C"` : sql`text`;
  return {
    "0001_initial": {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable("deployments")
          .addColumn("id", sortableText, (c) => c.primaryKey())
          .addColumn("object", "text", (c) => c.notNull())
          .addColumn("repository", "text")
          .addColumn("branch", "text")
          .addColumn("commit_sha", "text")
          .addColumn("strategy", "text", (c) => c.notNull())
          .addColumn("region", "text", (c) => c.notNull())
          .addColumn("cluster", "text", (c) => c.notNull())
          .addColumn("service", "text", (c) => c.notNull())
          .addColumn("phase", "text", (c) => c.notNull())
          .addColumn("active", "integer", (c) => c.notNull())
          .addColumn("reason", "text")
          .addColumn("message", "text")
          .addColumn("traffic_weight", "double precision")
          .addColumn("old_task_definition_arn", "text")
          .addColumn("new_task_definition_arn", "text")
          .addColumn("desired_count", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("running_count", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("pending_count", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("failed_count", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("overrides", "text", (c) => c.notNull().defaultTo("[]"))
          .addColumn("machine_state", "text")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .addColumn("finished_at", "bigint")
          .addColumn("version", "integer", (c) => c.notNull())
          .addColumn("last_event_seq", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.createIndex("deployments_object").on("deployments").columns(["object", "id"]).execute();
        await db.schema.createIndex("deployments_commit").on("deployments").columns(["repository", "commit_sha"]).execute();
        await db.schema.createIndex("deployments_service").on("deployments").columns(["region", "cluster", "service"]).execute();
        await db.schema.createIndex("deployments_phase").on("deployments").columns(["phase", "id"]).execute();
        // The last line of defence for "one deployment per service at a time", whoever writes.
        await db.schema
          .createIndex("deployments_one_active_per_service")
          .on("deployments")
          .columns(["region", "cluster", "service"])
          .unique()
          .where(sql.ref("active"), "=", 1)
          .execute();

        await db.schema
          .createTable("deployment_events")
          .addColumn("deployment_id", "text", (c) => c.notNull().references("deployments.id").onDelete("cascade"))
          .addColumn("seq", "integer", (c) => c.notNull())
          .addColumn("at", "bigint", (c) => c.notNull())
          .addColumn("type", "text", (c) => c.notNull())
          .addColumn("message", "text", (c) => c.notNull())
          .addColumn("data", "text")
          .addPrimaryKeyConstraint("deployment_events_pk", ["deployment_id", "seq"])
          .execute();

        await db.schema
          .createTable("controls")
          .addColumn("id", dialect === "postgres" ? "serial" : "integer", (c) =>
            dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn("deployment_id", "text", (c) => c.notNull().references("deployments.id").onDelete("cascade"))
          .addColumn("action", "text", (c) => c.notNull())
          .addColumn("requested_by", "text", (c) => c.notNull())
          .addColumn("requested_at", "bigint", (c) => c.notNull())
          .addColumn("consumed_at", "bigint")
          .execute();
        await db.schema.createIndex("controls_pending").on("controls").columns(["deployment_id", "consumed_at"]).execute();

        await db.schema
          .createTable("last_commits")
          .addColumn("repository", "text", (c) => c.notNull())
          .addColumn("branch", "text", (c) => c.notNull())
          .addColumn("sha", "text", (c) => c.notNull())
          .addColumn("processed_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("last_commits_pk", ["repository", "branch"])
          .execute();

        await db.schema
          .createTable("repositories")
          .addColumn("name", "text", (c) => c.primaryKey())
          .addColumn("url", "text", (c) => c.notNull())
          .addColumn("branch", "text", (c) => c.notNull())
          .addColumn("path", "text")
          .addColumn("poll_interval_seconds", "integer", (c) => c.notNull())
          .addColumn("credentials", "text")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .execute();

        await db.schema
          .createTable("api_tokens")
          .addColumn("name", "text", (c) => c.primaryKey())
          .addColumn("role", "text", (c) => c.notNull())
          .addColumn("token_hash", "text", (c) => c.notNull().unique())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("last_used_at", "bigint")
          .execute();

        await db.schema
          .createTable("leases")
          .addColumn("key", "text", (c) => c.primaryKey())
          .addColumn("holder", "text", (c) => c.notNull())
          .addColumn("acquired_at", "bigint", (c) => c.notNull())
          .addColumn("expires_at", "bigint", (c) => c.notNull())
          .addColumn("epoch", "integer", (c) => c.notNull())
          .execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        for (const t of ["leases", "api_tokens", "repositories", "last_commits", "controls", "deployment_events", "deployments"]) {
          await db.schema.dropTable(t).ifExists().execute();
        }
      },
    },
    // The dashboard: sign-in sessions, and samples of running deployments for its chart.
    "0003_sessions_samples": {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable("sessions")
          .addColumn("id_hash", "text", (c) => c.primaryKey())
          .addColumn("token_name", "text", (c) => c.notNull())
          .addColumn("token_hash", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("expires_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("sessions_expires").on("sessions").columns(["expires_at"]).execute();
        await db.schema
          .createTable("deployment_samples")
          .addColumn("seq", dialect === "postgres" ? "serial" : "integer", (c) => (dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn("deployment_id", "text", (c) => c.notNull().references("deployments.id").onDelete("cascade"))
          .addColumn("at", "bigint", (c) => c.notNull())
          .addColumn("data", "text", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("deployment_samples_deployment").on("deployment_samples").columns(["deployment_id", "seq"]).execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropTable("deployment_samples").ifExists().execute();
        await db.schema.dropTable("sessions").ifExists().execute();
      },
    },
    // What each processed commit did and which problems its objects have; deletes held back.
    "0004_commit_records_pending_deletes": {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable("commit_records")
          .addColumn("seq", dialect === "postgres" ? "serial" : "integer", (c) => (dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn("repository", "text", (c) => c.notNull())
          .addColumn("branch", "text", (c) => c.notNull())
          .addColumn("sha", "text", (c) => c.notNull())
          .addColumn("trigger", "text", (c) => c.notNull())
          .addColumn("processed_at", "bigint", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("errors", "integer", (c) => c.notNull())
          .addColumn("warnings", "integer", (c) => c.notNull())
          .addColumn("objects", "text", (c) => c.notNull())
          .addColumn("problems", "text", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("commit_records_sha").on("commit_records").columns(["repository", "sha", "seq"]).execute();

        await db.schema
          .createTable("pending_deletes")
          .addColumn("repository", "text", (c) => c.notNull())
          .addColumn("object", "text", (c) => c.notNull())
          .addColumn("branch", "text", (c) => c.notNull())
          .addColumn("commit_sha", "text", (c) => c.notNull())
          .addColumn("region", "text", (c) => c.notNull())
          .addColumn("cluster", "text", (c) => c.notNull())
          .addColumn("service", "text", (c) => c.notNull())
          .addColumn("reason", "text", (c) => c.notNull())
          .addColumn("code", "text")
          .addColumn("message", "text", (c) => c.notNull())
          .addColumn("spec", "text", (c) => c.notNull())
          .addColumn("held_at", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("pending_deletes_pk", ["repository", "object"])
          .execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropTable("pending_deletes").ifExists().execute();
        await db.schema.dropTable("commit_records").ifExists().execute();
      },
    },
    // The large, unchanging members of a machine state (machine-state.ts), written only when they change.
    "0005_machine_base": {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable("deployments").addColumn("machine_base", "text").execute();
        await db.schema.alterTable("deployments").addColumn("machine_base_hash", "text").execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable("deployments").dropColumn("machine_base_hash").execute();
        await db.schema.alterTable("deployments").dropColumn("machine_base").execute();
      },
    },
    // Commits held by sync windows, the controller's activity stream, and the last drift check per object.
    "0006_windows_activity_drift": {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable("waiting_commits")
          .addColumn("repository", "text", (c) => c.notNull())
          .addColumn("branch", "text", (c) => c.notNull())
          .addColumn("sha", "text", (c) => c.notNull())
          .addColumn("windows", "text", (c) => c.notNull())
          .addColumn("objects", "text", (c) => c.notNull())
          .addColumn("message", "text", (c) => c.notNull())
          .addColumn("since", "bigint", (c) => c.notNull())
          .addColumn("until", "bigint")
          .addColumn("checked_at", "bigint", (c) => c.notNull())
          .addColumn("released_by", "text")
          .addColumn("released_at", "bigint")
          .addPrimaryKeyConstraint("waiting_commits_pk", ["repository", "branch"])
          .execute();
        await db.schema
          .createTable("activity")
          .addColumn("seq", dialect === "postgres" ? "serial" : "integer", (c) => (dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn("at", "bigint", (c) => c.notNull())
          .addColumn("type", "text", (c) => c.notNull())
          .addColumn("repository", "text")
          .addColumn("object", "text")
          .addColumn("sha", "text")
          .addColumn("message", "text", (c) => c.notNull())
          .addColumn("data", "text")
          .execute();
        await db.schema.createIndex("activity_repository").on("activity").columns(["repository", "seq"]).execute();
        await db.schema
          .createTable("drift")
          .addColumn("repository", "text", (c) => c.notNull())
          .addColumn("object", "text", (c) => c.notNull())
          .addColumn("sha", "text", (c) => c.notNull())
          .addColumn("region", "text", (c) => c.notNull())
          .addColumn("cluster", "text", (c) => c.notNull())
          .addColumn("service", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("detail", "text", (c) => c.notNull())
          .addColumn("detected_at", "bigint")
          .addColumn("checked_at", "bigint", (c) => c.notNull())
          .addColumn("heal_deployment_id", "text")
          .addColumn("healed_at", "bigint")
          .addPrimaryKeyConstraint("drift_pk", ["repository", "object"])
          .execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropTable("drift").ifExists().execute();
        await db.schema.dropTable("activity").ifExists().execute();
        await db.schema.dropTable("waiting_commits").ifExists().execute();
      },
    },
    // Deployment ownership for several replicas (docs/store.md, "Several replicas"): the owning
    // process, its fencing token and its lease's expiry, on the deployment row itself so a state
    // write checks the fence under the same row lock as the version.
    "0007_deployment_owners": {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable("deployments").addColumn("owner", "text").execute();
        await db.schema.alterTable("deployments").addColumn("owner_token", "integer", (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.alterTable("deployments").addColumn("owner_expires_at", "bigint").execute();
        await db.schema.createIndex("deployments_active_owner").on("deployments").columns(["active", "owner_expires_at"]).execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropIndex("deployments_active_owner").ifExists().execute();
        for (const c of ["owner_expires_at", "owner_token", "owner"]) await db.schema.alterTable("deployments").dropColumn(c).execute();
      },
    },
  };
}

class InCodeMigrations implements MigrationProvider {
  readonly #dialect: SqlDialect;
  constructor(dialect: SqlDialect) {
    this.#dialect = dialect;
  }
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(migrations(this.#dialect));
  }
}

/** Brings the schema to the newest version; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<unknown>, dialect: SqlDialect): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new InCodeMigrations(dialect),
    migrationTableName: "flotilla_migrations",
    migrationLockTableName: "flotilla_migrations_lock",
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error !== undefined) {
    const cause = error instanceof Error ? error.message : inspect(error);
    throw new Error(`Store migration ${failed?.migrationName ?? "(unknown)"} failed: ${cause}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
