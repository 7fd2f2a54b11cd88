/**
 * The one query layer both backends share. Dialect differences are kept to row locking
 * (`FOR UPDATE` on PostgreSQL; SQLite transactions already hold the write lock from BEGIN).
 */
import type { CompiledQuery, Kysely, Selectable, Transaction, Updateable } from "kysely";
import { ActiveDeploymentError, FencedError, StoreError, VersionConflictError } from "./errors.ts";
import { ulidFactory } from "./ids.ts";
import { encodeMachineState, type EncodedState } from "./machine-state.ts";
import { toActivity, toApiToken, toCommitRecord, toControl, toDeployment, toDrift, toEvent, toJson, toLease, toPendingDelete, toRepository, toWaitingCommit } from "./rows.ts";
import type { ControlsTable, Database, DeploymentsTable } from "./schema.ts";
import type { SqlDialect } from "./migrations.ts";
import type { Store, StoreClock, UpdateOptions } from "./store.ts";
import { generateSessionSecret, generateToken, hashToken, tokenMatches } from "./tokens.ts";
import { COMMIT_PROBLEMS_KEPT, isTerminal } from "./types.ts";
import type {
  ApiToken,
  CommitRecord,
  Control,
  ControlAction,
  Deployment,
  DeploymentEvent,
  DeploymentFilter,
  DeploymentOwner,
  DeploymentPage,
  DeploymentPatch,
  DeploymentSample,
  Fence,
  LastCommit,
  Lease,
  NewDeployment,
  NewCommitRecord,
  NewEvent,
  NewPendingDelete,
  NewRepository,
  PendingDelete,
  Repository,
  RepositoryPatch,
  SampleData,
  Session,
  TokenRole,
  ActivityEvent,
  DriftRecord,
  DriftStatus,
  NewActivityEvent,
  NewDriftRecord,
  NewWaitingCommit,
  WaitingCommit,
} from "./types.ts";
import { checkAction, checkPhase, checkRepository, checkRole } from "./validate.ts";

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;
const DEFAULT_POLL_SECONDS = 60;

export class KyselyStore implements Store {
  readonly kind: SqlDialect;
  readonly #db: Kysely<Database>;
  readonly #clock: StoreClock;
  readonly #nextId = ulidFactory();
  #closed = false;
  #pendingControlsQuery: CompiledQuery<Selectable<ControlsTable>> | undefined;

  constructor(db: Kysely<Database>, kind: SqlDialect, clock: StoreClock) {
    this.#db = db;
    this.kind = kind;
    this.#clock = clock;
  }

  // ---- deployments -------------------------------------------------------------------------

  async createDeployment(input: NewDeployment, events: readonly NewEvent[] = []): Promise<Deployment> {
    const now = this.#clock.now();
    const phase = checkPhase(input.phase ?? "Pending");
    const row: DeploymentsTable = {
      id: input.id ?? this.#nextId(now),
      object: input.object,
      repository: input.repository ?? null,
      branch: input.branch ?? null,
      commit_sha: input.commitSha ?? null,
      strategy: input.strategy,
      region: input.region,
      cluster: input.cluster,
      service: input.service,
      phase,
      active: isTerminal(phase) ? 0 : 1,
      reason: input.reason ?? null,
      message: input.message ?? null,
      traffic_weight: input.trafficWeight ?? null,
      old_task_definition_arn: input.oldTaskDefinitionArn ?? null,
      new_task_definition_arn: input.newTaskDefinitionArn ?? null,
      desired_count: input.counts?.desired ?? 0,
      running_count: input.counts?.running ?? 0,
      pending_count: input.counts?.pending ?? 0,
      failed_count: input.counts?.failed ?? 0,
      overrides: JSON.stringify(input.overrides ?? []),
      ...machineColumns(encodeMachineState(input.machineState)),
      created_at: now,
      updated_at: now,
      finished_at: isTerminal(phase) ? now : null,
      version: 1,
      last_event_seq: events.length,
      owner: input.owner?.id ?? null,
      owner_token: input.owner ? 1 : 0,
      owner_expires_at: input.owner ? now + checkTtl(input.owner.ttlMs) : null,
    };
    const serviceName = `${row.region}/${row.cluster}/${row.service}`;
    try {
      return await this.#db.transaction().execute(async (trx) => {
        if (row.active === 1) {
          const existing = await trx
            .selectFrom("deployments")
            .select(["id", "owner", "owner_expires_at"])
            .where("region", "=", row.region)
            .where("cluster", "=", row.cluster)
            .where("service", "=", row.service)
            .where("active", "=", 1)
            .executeTakeFirst();
          if (existing) throw new ActiveDeploymentError(serviceName, existing.id, existing.owner === null ? undefined : { id: existing.owner, expiresAt: existing.owner_expires_at ?? 0, now });
        }
        const inserted = await trx.insertInto("deployments").values(row).returningAll().executeTakeFirstOrThrow();
        await this.#insertEvents(trx, row.id, 0, events, now);
        return toDeployment(inserted);
      });
    } catch (e) {
      // Two writers raced past the check above; the partial unique index stopped the second.
      if (isUniqueViolation(e)) {
        if (input.id !== undefined && (await this.getDeployment(input.id))) {
          throw new StoreError("FLT-STORE-DUPLICATE", `Deployment ${input.id} already exists.`);
        }
        throw new ActiveDeploymentError(serviceName, null);
      }
      throw e;
    }
  }

  async getDeployment(id: string): Promise<Deployment | undefined> {
    const row = await this.#db.selectFrom("deployments").selectAll().where("id", "=", id).executeTakeFirst();
    return row && toDeployment(row);
  }

  async updateDeployment(
    id: string,
    expectedVersion: number,
    patch: DeploymentPatch,
    events: readonly NewEvent[] = [],
    options: UpdateOptions = {},
  ): Promise<Deployment> {
    const now = this.#clock.now();
    const machine = "machineState" in patch ? encodeMachineState(patch.machineState) : undefined;
    return this.#db.transaction().execute(async (trx) => {
      // Only what the checks need: the machine state is not read back to be rewritten.
      let query = trx.selectFrom("deployments").select(["version", "active", "phase", "last_event_seq", "machine_base_hash", "owner", "owner_token", "owner_expires_at"]).where("id", "=", id);
      if (this.kind === "postgres") query = query.forUpdate();
      const current = await query.executeTakeFirst();
      if (!current) throw notFound("Deployment", id);
      // A writer that lost the deployment learns that first; then, as before leases, a stale version.
      checkFence(id, current, options.fence, now);
      if (current.version !== expectedVersion) throw new VersionConflictError(id, expectedVersion, current.version);
      if (current.active === 0) {
        throw new StoreError("FLT-STORE-DEPLOYMENT-FINISHED", `Deployment ${id} has finished (${current.phase}); it cannot change.`);
      }
      const set: Updateable<DeploymentsTable> = {
        version: expectedVersion + 1,
        updated_at: now,
        last_event_seq: current.last_event_seq + events.length,
      };
      if (patch.phase !== undefined) {
        const phase = checkPhase(patch.phase);
        set.phase = phase;
        if (isTerminal(phase)) {
          set.active = 0;
          set.finished_at = now;
          // The ownership ends with the deployment; the last owner stays on the record.
          if (current.owner !== null) set.owner_expires_at = Math.min(current.owner_expires_at ?? now, now);
        }
      }
      if (patch.reason !== undefined) set.reason = patch.reason;
      if (patch.message !== undefined) set.message = patch.message;
      if (patch.trafficWeight !== undefined) set.traffic_weight = patch.trafficWeight;
      if (patch.oldTaskDefinitionArn !== undefined) set.old_task_definition_arn = patch.oldTaskDefinitionArn;
      if (patch.newTaskDefinitionArn !== undefined) set.new_task_definition_arn = patch.newTaskDefinitionArn;
      if (patch.counts?.desired !== undefined) set.desired_count = patch.counts.desired;
      if (patch.counts?.running !== undefined) set.running_count = patch.counts.running;
      if (patch.counts?.pending !== undefined) set.pending_count = patch.counts.pending;
      if (patch.counts?.failed !== undefined) set.failed_count = patch.counts.failed;
      if (patch.overrides !== undefined) set.overrides = JSON.stringify(patch.overrides);
      if (machine) {
        set.machine_state = machine.state;
        // The spec and other large members are rewritten only when they changed.
        if (machine.baseHash !== current.machine_base_hash) Object.assign(set, { machine_base: machine.base, machine_base_hash: machine.baseHash });
      }

      const update = trx.updateTable("deployments").set(set).where("id", "=", id).where("version", "=", expectedVersion);
      // With a new machine state the base is known here: it is not read back.
      const updated = machine
        ? await update.returning(COLUMNS_BUT_BASE).executeTakeFirst().then((r) => r && { ...r, machine_base: machine.base })
        : await update.returningAll().executeTakeFirst();
      if (!updated) throw new VersionConflictError(id, expectedVersion, -1); // cannot happen under the lock
      await this.#insertEvents(trx, id, current.last_event_seq, events, now);
      if (options.consumeControls && options.consumeControls.length > 0) {
        await trx
          .updateTable("controls")
          .set({ consumed_at: now })
          .where("id", "in", [...options.consumeControls])
          .where("deployment_id", "=", id)
          .where("consumed_at", "is", null)
          .execute();
      }
      return toDeployment(updated);
    });
  }

  async latestDeployment(object: string, repository?: string | null): Promise<Deployment | undefined> {
    let query = this.#db.selectFrom("deployments").selectAll().where("object", "=", object);
    if (repository !== undefined) {
      query = repository === null ? query.where("repository", "is", null) : query.where("repository", "=", repository);
    }
    const row = await query.orderBy("id", "desc").limit(1).executeTakeFirst();
    return row && toDeployment(row);
  }

  async latestPerObject(filter: Pick<DeploymentFilter, "repository" | "region" | "cluster"> = {}): Promise<Deployment[]> {
    // Ids are time-ordered, so the newest deployment of a group is its greatest id.
    let newest = this.#db
      .selectFrom("deployments")
      .select((eb) => eb.fn.max("id").as("id"))
      .groupBy(["repository", "object"]);
    if (filter.repository !== undefined) newest = newest.where("repository", "=", filter.repository);
    if (filter.region !== undefined) newest = newest.where("region", "=", filter.region);
    if (filter.cluster !== undefined) newest = newest.where("cluster", "=", filter.cluster);
    const rows = await this.#db
      .selectFrom("deployments")
      .selectAll()
      .where("id", "in", newest)
      .orderBy("id", "desc")
      .execute();
    return rows.map(toDeployment);
  }

  async listDeployments(filter: DeploymentFilter = {}): Promise<DeploymentPage> {
    const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? DEFAULT_PAGE)), MAX_PAGE);
    let query = this.#db.selectFrom("deployments").selectAll();
    if (filter.repository !== undefined) query = query.where("repository", "=", filter.repository);
    if (filter.commitSha !== undefined) query = query.where("commit_sha", "=", filter.commitSha);
    if (filter.region !== undefined) query = query.where("region", "=", filter.region);
    if (filter.cluster !== undefined) query = query.where("cluster", "=", filter.cluster);
    if (filter.service !== undefined) query = query.where("service", "=", filter.service);
    if (filter.object !== undefined) query = query.where("object", "=", filter.object);
    if (filter.phase !== undefined) {
      const phases = typeof filter.phase === "string" ? [filter.phase] : [...filter.phase];
      if (phases.length === 0) return { items: [], nextCursor: null };
      query = query.where("phase", "in", phases.map(checkPhase));
    }
    if (filter.active !== undefined) query = query.where("active", "=", filter.active ? 1 : 0);
    if (filter.before !== undefined) query = query.where("id", "<", filter.before);
    const rows = await query.orderBy("id", "desc").limit(limit + 1).execute();
    const items = rows.slice(0, limit).map(toDeployment);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? last.id : null };
  }

  async activeDeployments(options: { orphaned?: boolean } = {}): Promise<Deployment[]> {
    let query = this.#db.selectFrom("deployments").selectAll().where("active", "=", 1);
    if (options.orphaned) {
      const now = this.#clock.now();
      query = query.where((eb) => eb.or([eb("owner", "is", null), eb("owner_expires_at", "<=", now)]));
    }
    const rows = await query.orderBy("id", "asc").execute();
    return rows.map(toDeployment);
  }

  // ---- ownership (one process drives a deployment at a time) --------------------------------

  async acquireDeployment(
    id: string,
    owner: string,
    ttlMs: number,
    events?: (previous: DeploymentOwner | null) => readonly NewEvent[],
  ): Promise<Deployment | undefined> {
    checkTtl(ttlMs);
    const now = this.#clock.now();
    return this.#db.transaction().execute(async (trx) => {
      let query = trx.selectFrom("deployments").selectAll().where("id", "=", id);
      if (this.kind === "postgres") query = query.forUpdate();
      const current = await query.executeTakeFirst();
      if (!current) throw notFound("Deployment", id);
      if (current.active === 0) return undefined;
      const live = current.owner !== null && (current.owner_expires_at ?? 0) > now;
      if (live && current.owner !== owner) return undefined;
      // Our own live lease is renewed as it is; anything else is a new acquisition with a new token.
      const renewal = live && current.owner === owner;
      const previous = toDeployment(current).owner;
      const added = renewal ? [] : [...(events?.(previous) ?? [])];
      const updated = await trx
        .updateTable("deployments")
        .set({
          owner,
          owner_token: renewal ? current.owner_token : current.owner_token + 1,
          owner_expires_at: now + ttlMs,
          last_event_seq: current.last_event_seq + added.length,
        })
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.#insertEvents(trx, id, current.last_event_seq, added, now);
      return toDeployment(updated);
    });
  }

  async renewDeployments(owner: string, ids: readonly string[], ttlMs: number): Promise<string[]> {
    checkTtl(ttlMs);
    const now = this.#clock.now();
    const renewed: string[] = [];
    // Chunked: one statement per 500 deployments keeps within every driver's parameter limit.
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.#db
        .updateTable("deployments")
        .set({ owner_expires_at: now + ttlMs })
        .where("id", "in", ids.slice(i, i + 500))
        .where("owner", "=", owner)
        .where("active", "=", 1)
        .returning("id")
        .execute();
      renewed.push(...rows.map((r) => r.id));
    }
    return renewed;
  }

  async releaseDeployment(id: string, fence: Fence, events: readonly NewEvent[] = []): Promise<boolean> {
    const now = this.#clock.now();
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable("deployments")
        .set((eb) => ({ owner_expires_at: now, last_event_seq: eb("last_event_seq", "+", events.length) }))
        .where("id", "=", id)
        .where("owner", "=", fence.owner)
        .where("owner_token", "=", fence.token)
        .where("active", "=", 1)
        .where("owner_expires_at", ">", now)
        .returning("last_event_seq")
        .executeTakeFirst();
      if (!row) return false;
      await this.#insertEvents(trx, id, row.last_event_seq - events.length, events, now);
      return true;
    });
  }

  // ---- timeline ----------------------------------------------------------------------------

  async appendEvents(deploymentId: string, events: readonly NewEvent[]): Promise<DeploymentEvent[]> {
    if (events.length === 0) return [];
    const now = this.#clock.now();
    return this.#db.transaction().execute(async (trx) => {
      // Reserving the seq numbers on the deployment row also serializes concurrent appenders.
      const row = await trx
        .updateTable("deployments")
        .set((eb) => ({ last_event_seq: eb("last_event_seq", "+", events.length) }))
        .where("id", "=", deploymentId)
        .returning("last_event_seq")
        .executeTakeFirst();
      if (!row) throw notFound("Deployment", deploymentId);
      return this.#insertEvents(trx, deploymentId, row.last_event_seq - events.length, events, now);
    });
  }

  async listEvents(deploymentId: string, options: { afterSeq?: number; limit?: number } = {}): Promise<DeploymentEvent[]> {
    let query = this.#db
      .selectFrom("deployment_events")
      .selectAll()
      .where("deployment_id", "=", deploymentId)
      .where("seq", ">", options.afterSeq ?? 0)
      .orderBy("seq", "asc");
    if (options.limit !== undefined) query = query.limit(options.limit);
    return (await query.execute()).map(toEvent);
  }

  async #insertEvents(
    trx: Transaction<Database>,
    deploymentId: string,
    lastSeq: number,
    events: readonly NewEvent[],
    at: number,
  ): Promise<DeploymentEvent[]> {
    if (events.length === 0) return [];
    const rows = events.map((e, i) => ({
      deployment_id: deploymentId,
      seq: lastSeq + i + 1,
      at,
      type: e.type,
      message: e.message,
      data: toJson(e.data),
    }));
    await trx.insertInto("deployment_events").values(rows).execute();
    return rows.map(toEvent);
  }

  // ---- operator controls -------------------------------------------------------------------

  async requestControl(deploymentId: string, action: ControlAction, requestedBy: string): Promise<Control> {
    checkAction(action);
    const now = this.#clock.now();
    return this.#db.transaction().execute(async (trx) => {
      const dep = await trx.selectFrom("deployments").select(["phase", "active"]).where("id", "=", deploymentId).executeTakeFirst();
      if (!dep) throw notFound("Deployment", deploymentId);
      if (dep.active === 0) {
        throw new StoreError("FLT-STORE-DEPLOYMENT-FINISHED", `Deployment ${deploymentId} has finished (${dep.phase}); nothing to ${action}.`);
      }
      const row = await trx
        .insertInto("controls")
        .values({ deployment_id: deploymentId, action, requested_by: requestedBy, requested_at: now, consumed_at: null })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toControl(row);
    });
  }

  /**
   * Asked every few seconds by every running deployment, and almost always empty: the query is
   * built once and only its parameter changes (with SQLite's statement cache, a call costs the
   * index lookup and little else).
   */
  async pendingControls(deploymentId: string): Promise<Control[]> {
    this.#pendingControlsQuery ??= this.#db
      .selectFrom("controls")
      .selectAll()
      .where("deployment_id", "=", deploymentId)
      .where("consumed_at", "is", null)
      .orderBy("id", "asc")
      .compile();
    const { rows } = await this.#db.executeQuery<Selectable<ControlsTable>>({ ...this.#pendingControlsQuery, parameters: [deploymentId] });
    return rows.map(toControl);
  }

  async deploymentsWithPendingControls(): Promise<string[]> {
    const rows = await this.#db.selectFrom("controls").select("deployment_id").distinct().where("consumed_at", "is", null).execute();
    return rows.map((r) => r.deployment_id);
  }

  async consumeControl(controlId: number): Promise<boolean> {
    const result = await this.#db
      .updateTable("controls")
      .set({ consumed_at: this.#clock.now() })
      .where("id", "=", controlId)
      .where("consumed_at", "is", null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async listControls(deploymentId: string): Promise<Control[]> {
    const rows = await this.#db.selectFrom("controls").selectAll().where("deployment_id", "=", deploymentId).orderBy("id", "asc").execute();
    return rows.map(toControl);
  }

  // ---- commits -----------------------------------------------------------------------------

  async getLastCommit(repository: string, branch: string): Promise<LastCommit | undefined> {
    const row = await this.#db
      .selectFrom("last_commits")
      .selectAll()
      .where("repository", "=", repository)
      .where("branch", "=", branch)
      .executeTakeFirst();
    return row && { repository: row.repository, branch: row.branch, sha: row.sha, processedAt: row.processed_at };
  }

  setLastCommit(repository: string, branch: string, sha: string, expectedSha?: string | null): Promise<LastCommit> {
    return this.#advance(this.#db, repository, branch, sha, expectedSha, this.#clock.now());
  }

  /** Moves the last processed commit, with compare-and-set when `expectedSha` is given (null: none yet). */
  async #advance(db: Kysely<Database>, repository: string, branch: string, sha: string, expectedSha: string | null | undefined, now: number): Promise<LastCommit> {
    const record: LastCommit = { repository, branch, sha, processedAt: now };
    const values = { repository, branch, sha, processed_at: now };
    const conflict = (): StoreError =>
      new StoreError(
        "FLT-STORE-CONFLICT",
        `The last processed commit of ${repository}@${branch} is no longer ${expectedSha ?? "unset"}; another worker moved it.`,
      );
    if (expectedSha === undefined) {
      await db
        .insertInto("last_commits")
        .values(values)
        .onConflict((oc) => oc.columns(["repository", "branch"]).doUpdateSet({ sha, processed_at: now }))
        .execute();
      return record;
    }
    if (expectedSha === null) {
      try {
        await db.insertInto("last_commits").values(values).execute();
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict();
        throw e;
      }
      return record;
    }
    const result = await db
      .updateTable("last_commits")
      .set({ sha, processed_at: now })
      .where("repository", "=", repository)
      .where("branch", "=", branch)
      .where("sha", "=", expectedSha)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw conflict();
    return record;
  }

  // ---- commit records ----------------------------------------------------------------------

  recordCommit(input: NewCommitRecord): Promise<CommitRecord> {
    return this.#insertCommitRecord(this.#db, input, this.#clock.now());
  }

  markProcessed(input: NewCommitRecord, expectedSha: string | null): Promise<{ record: CommitRecord; lastCommit: LastCommit }> {
    const now = this.#clock.now();
    // The compare-and-set first: a refused advance throws before the record is written, and the
    // transaction rolls back whatever happened before a failure, so both are written or neither.
    return this.#db.transaction().execute(async (trx) => {
      const lastCommit = await this.#advance(trx, input.repository, input.branch, input.sha, expectedSha, now);
      const record = await this.#insertCommitRecord(trx, input, now);
      return { record, lastCommit };
    });
  }

  async #insertCommitRecord(db: Kysely<Database>, input: NewCommitRecord, now: number): Promise<CommitRecord> {
    const row = await db
      .insertInto("commit_records")
      .values({
        repository: input.repository,
        branch: input.branch,
        sha: input.sha,
        trigger: input.trigger,
        processed_at: now,
        status: input.status,
        errors: input.errors,
        warnings: input.warnings,
        objects: JSON.stringify(input.objects),
        problems: JSON.stringify(input.problems.slice(0, COMMIT_PROBLEMS_KEPT)),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toCommitRecord(row);
  }

  async getCommitRecord(repository: string, sha: string): Promise<CommitRecord | undefined> {
    const row = await this.#db
      .selectFrom("commit_records")
      .selectAll()
      .where("repository", "=", repository)
      .where("sha", "=", sha)
      .orderBy("seq", "desc")
      .limit(1)
      .executeTakeFirst();
    return row && toCommitRecord(row);
  }

  async listCommitRecords(filter: { repository?: string; shas?: readonly string[]; afterSeq?: number; processedAfter?: number; limit?: number } = {}): Promise<CommitRecord[]> {
    const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? 100)), MAX_PAGE);
    if (filter.shas !== undefined && filter.shas.length === 0) return [];
    if (filter.afterSeq !== undefined) {
      let query = this.#db.selectFrom("commit_records").selectAll().where("seq", ">", filter.afterSeq);
      if (filter.repository !== undefined) query = query.where("repository", "=", filter.repository);
      if (filter.shas !== undefined) query = query.where("sha", "in", [...filter.shas]);
      if (filter.processedAfter !== undefined) query = query.where("processed_at", ">", filter.processedAfter);
      return (await query.orderBy("seq", "asc").limit(limit).execute()).map(toCommitRecord);
    }
    // The newest record of each commit.
    let newest = this.#db
      .selectFrom("commit_records")
      .select((eb) => eb.fn.max("seq").as("seq"))
      .groupBy(["repository", "sha"]);
    if (filter.repository !== undefined) newest = newest.where("repository", "=", filter.repository);
    if (filter.shas !== undefined) newest = newest.where("sha", "in", [...filter.shas]);
    const rows = await this.#db.selectFrom("commit_records").selectAll().where("seq", "in", newest).orderBy("seq", "desc").limit(limit).execute();
    return rows.map(toCommitRecord);
  }

  async lastCommitRecordSeq(): Promise<number> {
    const row = await this.#db
      .selectFrom("commit_records")
      .select((eb) => eb.fn.max("seq").as("seq"))
      .executeTakeFirst();
    return Number(row?.seq ?? 0);
  }

  async commitsWithPrefix(prefix: string, options: { repository?: string; limit?: number } = {}): Promise<string[]> {
    // Only hex reaches LIKE, so the pattern has no wildcard but the one appended.
    if (!/^[0-9a-f]{1,64}$/.test(prefix)) throw new StoreError("FLT-STORE-INVALID", `"${prefix}" is not a lower-case hex commit prefix.`);
    const limit = Math.max(1, Math.floor(options.limit ?? 2));
    let deployments = this.#db.selectFrom("deployments").select("commit_sha as sha").distinct().where("commit_sha", "like", `${prefix}%`);
    let records = this.#db.selectFrom("commit_records").select("sha").distinct().where("sha", "like", `${prefix}%`);
    if (options.repository !== undefined) {
      deployments = deployments.where("repository", "=", options.repository);
      records = records.where("repository", "=", options.repository);
    }
    const found = new Set<string>();
    for (const r of await deployments.limit(limit).execute()) if (r.sha) found.add(r.sha);
    for (const r of await records.limit(limit).execute()) found.add(r.sha);
    return [...found].sort().slice(0, limit);
  }

  // ---- pending deletes ---------------------------------------------------------------------

  async holdDelete(input: NewPendingDelete): Promise<PendingDelete> {
    const now = this.#clock.now();
    const values = {
      repository: input.repository,
      object: input.object,
      branch: input.branch,
      commit_sha: input.commitSha,
      region: input.region,
      cluster: input.cluster,
      service: input.service,
      reason: input.reason,
      code: input.code,
      message: input.message,
      spec: JSON.stringify(input.spec ?? null),
      held_at: now,
      updated_at: now,
    };
    const { held_at: _first, ...changed } = values;
    const row = await this.#db
      .insertInto("pending_deletes")
      .values(values)
      .onConflict((oc) => oc.columns(["repository", "object"]).doUpdateSet(changed))
      .returningAll()
      .executeTakeFirstOrThrow();
    return toPendingDelete(row);
  }

  async getPendingDelete(repository: string, object: string): Promise<PendingDelete | undefined> {
    const row = await this.#db.selectFrom("pending_deletes").selectAll().where("repository", "=", repository).where("object", "=", object).executeTakeFirst();
    return row && toPendingDelete(row);
  }

  async listPendingDeletes(filter: { repository?: string } = {}): Promise<PendingDelete[]> {
    let query = this.#db.selectFrom("pending_deletes").selectAll();
    if (filter.repository !== undefined) query = query.where("repository", "=", filter.repository);
    return (await query.orderBy("repository").orderBy("object").execute()).map(toPendingDelete);
  }

  async removePendingDelete(repository: string, object: string): Promise<boolean> {
    const result = await this.#db.deleteFrom("pending_deletes").where("repository", "=", repository).where("object", "=", object).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // ---- commits held by sync windows --------------------------------------------------------

  async holdCommit(input: NewWaitingCommit): Promise<WaitingCommit> {
    const now = this.#clock.now();
    return this.#db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom("waiting_commits").selectAll().where("repository", "=", input.repository).where("branch", "=", input.branch).executeTakeFirst();
      const same = existing?.sha === input.sha;
      const values = {
        repository: input.repository,
        branch: input.branch,
        sha: input.sha,
        windows: JSON.stringify(input.windows),
        objects: JSON.stringify(input.objects),
        message: input.message,
        since: same ? existing.since : now,
        until: input.until,
        checked_at: now,
        released_by: same ? existing.released_by : null,
        released_at: same ? existing.released_at : null,
      };
      const { repository: _r, branch: _b, ...changed } = values;
      const row = await trx
        .insertInto("waiting_commits")
        .values(values)
        .onConflict((oc) => oc.columns(["repository", "branch"]).doUpdateSet(changed))
        .returningAll()
        .executeTakeFirstOrThrow();
      return toWaitingCommit(row);
    });
  }

  async getWaitingCommit(repository: string, branch: string): Promise<WaitingCommit | undefined> {
    const row = await this.#db.selectFrom("waiting_commits").selectAll().where("repository", "=", repository).where("branch", "=", branch).executeTakeFirst();
    return row && toWaitingCommit(row);
  }

  async listWaitingCommits(filter: { repository?: string } = {}): Promise<WaitingCommit[]> {
    let query = this.#db.selectFrom("waiting_commits").selectAll();
    if (filter.repository !== undefined) query = query.where("repository", "=", filter.repository);
    return (await query.orderBy("repository").orderBy("branch").execute()).map(toWaitingCommit);
  }

  async releaseWaitingCommit(repository: string, branch: string, sha: string, by: string): Promise<WaitingCommit | undefined> {
    const row = await this.#db
      .updateTable("waiting_commits")
      .set({ released_by: by, released_at: this.#clock.now() })
      .where("repository", "=", repository)
      .where("branch", "=", branch)
      .where("sha", "=", sha)
      .returningAll()
      .executeTakeFirst();
    return row && toWaitingCommit(row);
  }

  async removeWaitingCommit(repository: string, branch: string, sha?: string): Promise<boolean> {
    let query = this.#db.deleteFrom("waiting_commits").where("repository", "=", repository).where("branch", "=", branch);
    if (sha !== undefined) query = query.where("sha", "=", sha);
    return (await query.executeTakeFirst()).numDeletedRows > 0n;
  }

  // ---- activity ----------------------------------------------------------------------------

  async appendActivity(input: NewActivityEvent): Promise<ActivityEvent> {
    const row = await this.#db
      .insertInto("activity")
      .values({ at: this.#clock.now(), type: input.type, repository: input.repository, object: input.object, sha: input.sha, message: input.message, data: input.data === null ? null : JSON.stringify(input.data) })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toActivity(row);
  }

  async listActivity(filter: { repository?: string; afterSeq?: number; limit?: number } = {}): Promise<ActivityEvent[]> {
    const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? 100)), MAX_PAGE);
    let query = this.#db.selectFrom("activity").selectAll();
    if (filter.repository !== undefined) query = query.where("repository", "=", filter.repository);
    if (filter.afterSeq !== undefined) return (await query.where("seq", ">", filter.afterSeq).orderBy("seq", "asc").limit(limit).execute()).map(toActivity);
    return (await query.orderBy("seq", "desc").limit(limit).execute()).map(toActivity);
  }

  async lastActivitySeq(): Promise<number> {
    const row = await this.#db
      .selectFrom("activity")
      .select((eb) => eb.fn.max("seq").as("seq"))
      .executeTakeFirst();
    return Number(row?.seq ?? 0);
  }

  // ---- drift -------------------------------------------------------------------------------

  async putDrift(input: NewDriftRecord): Promise<DriftRecord> {
    const values = {
      repository: input.repository,
      object: input.object,
      sha: input.sha,
      region: input.region,
      cluster: input.cluster,
      service: input.service,
      status: input.status,
      detail: JSON.stringify(input.detail),
      detected_at: input.detectedAt,
      checked_at: this.#clock.now(),
      heal_deployment_id: input.healDeploymentId,
      healed_at: input.healedAt,
    };
    const { repository: _r, object: _o, ...changed } = values;
    const row = await this.#db
      .insertInto("drift")
      .values(values)
      .onConflict((oc) => oc.columns(["repository", "object"]).doUpdateSet(changed))
      .returningAll()
      .executeTakeFirstOrThrow();
    return toDrift(row);
  }

  async getDrift(repository: string, object: string): Promise<DriftRecord | undefined> {
    const row = await this.#db.selectFrom("drift").selectAll().where("repository", "=", repository).where("object", "=", object).executeTakeFirst();
    return row && toDrift(row);
  }

  async listDrift(filter: { repository?: string; status?: DriftStatus } = {}): Promise<DriftRecord[]> {
    let query = this.#db.selectFrom("drift").selectAll();
    if (filter.repository !== undefined) query = query.where("repository", "=", filter.repository);
    if (filter.status !== undefined) query = query.where("status", "=", filter.status);
    return (await query.orderBy("repository").orderBy("object").execute()).map(toDrift);
  }

  async pruneDrift(repository: string, keep: readonly string[]): Promise<number> {
    let query = this.#db.deleteFrom("drift").where("repository", "=", repository);
    if (keep.length) query = query.where("object", "not in", [...keep]);
    return Number((await query.executeTakeFirst()).numDeletedRows);
  }

  // ---- repositories ------------------------------------------------------------------------

  async addRepository(input: NewRepository): Promise<Repository> {
    checkRepository(input);
    const now = this.#clock.now();
    try {
      const row = await this.#db
        .insertInto("repositories")
        .values({
          name: input.name,
          url: input.url,
          branch: input.branch,
          path: input.path ?? null,
          poll_interval_seconds: input.pollIntervalSeconds ?? DEFAULT_POLL_SECONDS,
          credentials: toJson(input.credentials),
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toRepository(row);
    } catch (e) {
      if (isUniqueViolation(e)) throw new StoreError("FLT-STORE-DUPLICATE", `A repository named "${input.name}" already exists.`);
      throw e;
    }
  }

  async updateRepository(name: string, patch: RepositoryPatch): Promise<Repository> {
    return this.#db.transaction().execute(async (trx) => {
      let query = trx.selectFrom("repositories").selectAll().where("name", "=", name);
      if (this.kind === "postgres") query = query.forUpdate();
      const row = await query.executeTakeFirst();
      if (!row) throw notFound("Repository", name);
      const merged = { ...toRepository(row), ...patch };
      // A legacy credentials reference already stored stays as it is until the patch replaces it.
      checkRepository({ ...merged, credentials: patch.credentials });
      const updated = await trx
        .updateTable("repositories")
        .set({
          url: merged.url,
          branch: merged.branch,
          path: merged.path ?? null,
          poll_interval_seconds: merged.pollIntervalSeconds ?? DEFAULT_POLL_SECONDS,
          credentials: toJson(merged.credentials),
          updated_at: this.#clock.now(),
        })
        .where("name", "=", name)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toRepository(updated);
    });
  }

  async getRepository(name: string): Promise<Repository | undefined> {
    const row = await this.#db.selectFrom("repositories").selectAll().where("name", "=", name).executeTakeFirst();
    return row && toRepository(row);
  }

  async listRepositories(): Promise<Repository[]> {
    return (await this.#db.selectFrom("repositories").selectAll().orderBy("name").execute()).map(toRepository);
  }

  async removeRepository(name: string): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      // Its held deletes go with it: nothing would ever carry them out or clear them.
      await trx.deleteFrom("pending_deletes").where("repository", "=", name).execute();
      await trx.deleteFrom("waiting_commits").where("repository", "=", name).execute();
      await trx.deleteFrom("drift").where("repository", "=", name).execute();
      const result = await trx.deleteFrom("repositories").where("name", "=", name).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  // ---- API tokens --------------------------------------------------------------------------

  async createToken(name: string, role: TokenRole, plaintext?: string): Promise<{ token: string; record: ApiToken }> {
    checkRole(role);
    if (name.trim() === "") throw new StoreError("FLT-STORE-INVALID", "A token needs a name.");
    if (plaintext !== undefined && plaintext.length < 20) {
      throw new StoreError("FLT-STORE-INVALID", "A supplied token must be at least 20 characters; omit it to generate one.");
    }
    const token = plaintext ?? generateToken();
    const now = this.#clock.now();
    try {
      await this.#db
        .insertInto("api_tokens")
        .values({ name, role, token_hash: hashToken(token), created_at: now, last_used_at: null })
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new StoreError("FLT-STORE-DUPLICATE", `A token named "${name}" (or with the same value) already exists.`);
      throw e;
    }
    return { token, record: { name, role, createdAt: now, lastUsedAt: null } };
  }

  async verifyToken(plaintext: string): Promise<ApiToken | undefined> {
    const match = await this.#matchToken(plaintext);
    if (!match) return undefined;
    const now = this.#clock.now();
    await this.#db.updateTable("api_tokens").set({ last_used_at: now }).where("name", "=", match.name).execute();
    return toApiToken({ ...match, last_used_at: now });
  }

  async #matchToken(plaintext: string) {
    // Compare against every stored hash, without an early exit or an indexed lookup, so the
    // answer's timing says nothing about how close a guess came. Token tables are small.
    const rows = await this.#db.selectFrom("api_tokens").selectAll().execute();
    let match: (typeof rows)[number] | undefined;
    for (const row of rows) {
      if (tokenMatches(plaintext, row.token_hash)) match = row;
    }
    return match;
  }

  async listTokens(): Promise<ApiToken[]> {
    const rows = await this.#db.selectFrom("api_tokens").select(["name", "role", "created_at", "last_used_at"]).orderBy("name").execute();
    return rows.map(toApiToken);
  }

  async rotateToken(name: string, plaintext?: string): Promise<{ token: string; record: ApiToken }> {
    if (plaintext !== undefined && plaintext.length < 20) {
      throw new StoreError("FLT-STORE-INVALID", "A supplied token must be at least 20 characters; omit it to generate one.");
    }
    const token = plaintext ?? generateToken();
    let row;
    try {
      // One statement: the old hash is gone the moment the new one is stored.
      row = await this.#db.updateTable("api_tokens").set({ token_hash: hashToken(token) }).where("name", "=", name).returning(["name", "role", "created_at", "last_used_at"]).executeTakeFirst();
    } catch (e) {
      if (isUniqueViolation(e)) throw new StoreError("FLT-STORE-DUPLICATE", "Another token already has that value.");
      throw e;
    }
    if (!row) throw notFound("Token", name);
    return { token, record: toApiToken(row) };
  }

  async revokeToken(name: string): Promise<boolean> {
    const result = await this.#db.deleteFrom("api_tokens").where("name", "=", name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // ---- dashboard sessions ------------------------------------------------------------------

  async createSession(token: string, ttlMs: number): Promise<{ secret: string; session: Session } | undefined> {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new StoreError("FLT-STORE-INVALID", `A session needs a positive lifetime, not ${ttlMs} ms.`);
    const match = await this.#matchToken(token);
    if (!match) return undefined;
    const now = this.#clock.now();
    const secret = generateSessionSecret();
    await this.#db.deleteFrom("sessions").where("expires_at", "<=", now).execute();
    await this.#db.insertInto("sessions").values({ id_hash: hashToken(secret), token_name: match.name, token_hash: match.token_hash, created_at: now, expires_at: now + ttlMs }).execute();
    await this.#db.updateTable("api_tokens").set({ last_used_at: now }).where("name", "=", match.name).execute();
    return { secret, session: { token: toApiToken({ ...match, last_used_at: now }), createdAt: now, expiresAt: now + ttlMs } };
  }

  async verifySession(secret: string): Promise<Session | undefined> {
    const now = this.#clock.now();
    // The join is the revocation check: a rotated token has another hash, a revoked one no row.
    const row = await this.#db
      .selectFrom("sessions")
      .innerJoin("api_tokens", (j) => j.onRef("api_tokens.name", "=", "sessions.token_name").onRef("api_tokens.token_hash", "=", "sessions.token_hash"))
      .select(["api_tokens.name", "api_tokens.role", "api_tokens.created_at", "api_tokens.last_used_at", "sessions.created_at as session_created_at", "sessions.expires_at"])
      .where("sessions.id_hash", "=", hashToken(secret))
      .where("sessions.expires_at", ">", now)
      .executeTakeFirst();
    if (!row) return undefined;
    await this.#db.updateTable("api_tokens").set({ last_used_at: now }).where("name", "=", row.name).execute();
    return { token: toApiToken({ name: row.name, role: row.role, created_at: row.created_at, last_used_at: now }), createdAt: Number(row.session_created_at), expiresAt: Number(row.expires_at) };
  }

  async deleteSession(secret: string): Promise<boolean> {
    const result = await this.#db.deleteFrom("sessions").where("id_hash", "=", hashToken(secret)).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // ---- deployment samples ------------------------------------------------------------------

  async appendSample(deploymentId: string, data: SampleData): Promise<DeploymentSample> {
    const at = this.#clock.now();
    const row = await this.#db.insertInto("deployment_samples").values({ deployment_id: deploymentId, at, data: JSON.stringify(data) }).returning("seq").executeTakeFirstOrThrow();
    return { deploymentId, seq: Number(row.seq), at, data };
  }

  async listSamples(deploymentId: string, options: { afterSeq?: number; limit?: number } = {}): Promise<DeploymentSample[]> {
    let q = this.#db.selectFrom("deployment_samples").selectAll().where("deployment_id", "=", deploymentId);
    if (options.afterSeq !== undefined) q = q.where("seq", ">", options.afterSeq);
    const rows = await q.orderBy("seq").limit(Math.min(Math.max(1, options.limit ?? 10_000), 10_000)).execute();
    return rows.map((r) => ({ deploymentId: r.deployment_id, seq: Number(r.seq), at: Number(r.at), data: JSON.parse(r.data) as SampleData }));
  }

  // ---- leases ------------------------------------------------------------------------------

  async acquireLease(key: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    checkTtl(ttlMs);
    const now = this.#clock.now();
    // One statement, atomic on both backends: insert, or take over when ours or expired.
    const row = await this.#db
      .insertInto("leases")
      .values({ key, holder, acquired_at: now, expires_at: now + ttlMs, epoch: 1 })
      .onConflict((oc) =>
        oc
          .column("key")
          .doUpdateSet((eb) => ({
            holder: eb.ref("excluded.holder"),
            expires_at: eb.ref("excluded.expires_at"),
            acquired_at: eb
              .case()
              .when("leases.holder", "=", holder)
              .then(eb.ref("leases.acquired_at"))
              .else(eb.ref("excluded.acquired_at"))
              .end(),
            epoch: eb
              .case()
              .when("leases.holder", "=", holder)
              .then(eb.ref("leases.epoch"))
              .else(eb("leases.epoch", "+", 1))
              .end(),
          }))
          .where((eb) => eb.or([eb("leases.holder", "=", holder), eb("leases.expires_at", "<=", now)])),
      )
      .returningAll()
      .executeTakeFirst();
    return row && toLease(row);
  }

  async renewLease(key: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    checkTtl(ttlMs);
    const now = this.#clock.now();
    const row = await this.#db
      .updateTable("leases")
      .set({ expires_at: now + ttlMs })
      .where("key", "=", key)
      .where("holder", "=", holder)
      .where("expires_at", ">", now)
      .returningAll()
      .executeTakeFirst();
    return row && toLease(row);
  }

  /** Ends our lease now. The row stays, expired, so the fencing epoch never goes back. */
  async releaseLease(key: string, holder: string): Promise<boolean> {
    const now = this.#clock.now();
    const result = await this.#db
      .updateTable("leases")
      .set({ expires_at: now })
      .where("key", "=", key)
      .where("holder", "=", holder)
      .where("expires_at", ">", now)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** The current lease, or undefined when there is none or it has expired. */
  async getLease(key: string): Promise<Lease | undefined> {
    const row = await this.#db.selectFrom("leases").selectAll().where("key", "=", key).executeTakeFirst();
    return row && row.expires_at > this.#clock.now() ? toLease(row) : undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.destroy();
  }
}

/** A deployment row's columns but `machine_base` (the large part of the machine state). */
const COLUMNS_BUT_BASE = [
  "id",
  "object",
  "repository",
  "branch",
  "commit_sha",
  "strategy",
  "region",
  "cluster",
  "service",
  "phase",
  "active",
  "reason",
  "message",
  "traffic_weight",
  "old_task_definition_arn",
  "new_task_definition_arn",
  "desired_count",
  "running_count",
  "pending_count",
  "failed_count",
  "overrides",
  "machine_state",
  "machine_base_hash",
  "created_at",
  "updated_at",
  "finished_at",
  "version",
  "last_event_seq",
  "owner",
  "owner_token",
  "owner_expires_at",
] as const satisfies readonly Exclude<keyof DeploymentsTable, "machine_base">[];

function machineColumns(e: EncodedState): Pick<DeploymentsTable, "machine_state" | "machine_base" | "machine_base_hash"> {
  return { machine_state: e.state, machine_base: e.base, machine_base_hash: e.baseHash };
}

function checkTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new StoreError("FLT-STORE-INVALID", `A lease needs a positive TTL, not ${ttlMs} ms.`);
  return ttlMs;
}

/**
 * Only the current owner writes a deployment's state: a write must carry the owner's id and token
 * (a token that is ours stays valid past the expiry until another process adopts the deployment,
 * which gives it a new token). A write without a fence is taken only while no live owner holds it.
 */
function checkFence(id: string, row: Pick<DeploymentsTable, "owner" | "owner_token" | "owner_expires_at">, fence: Fence | undefined, now: number): void {
  const live = row.owner !== null && (row.owner_expires_at ?? 0) > now;
  const held = row.owner === null ? "no owner" : `owner ${row.owner} (token ${row.owner_token}, lease ${live ? "until" : "expired at"} ${new Date(row.owner_expires_at ?? 0).toISOString()})`;
  if (fence === undefined) {
    if (live) throw new FencedError(id, `Deployment ${id} is driven by ${held}; a write without its fencing token was refused.`);
    return;
  }
  if (row.owner !== fence.owner || row.owner_token !== fence.token) {
    throw new FencedError(id, `Deployment ${id} has ${held}; a write from ${fence.owner} with token ${fence.token} was refused: that process no longer owns it and must stop acting on it.`);
  }
}

function notFound(what: string, id: string): StoreError {
  return new StoreError("FLT-STORE-NOT-FOUND", `${what} "${id}" not found.`);
}

/** A unique or primary-key violation, as PostgreSQL (23505) and node:sqlite report it. */
function isUniqueViolation(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const err = e as { code?: unknown; errcode?: unknown; message?: unknown };
  if (err.code === "23505") return true;
  // SQLITE_CONSTRAINT_UNIQUE = 2067, SQLITE_CONSTRAINT_PRIMARYKEY = 1555
  if (err.errcode === 2067 || err.errcode === 1555) return true;
  return typeof err.message === "string" && err.message.includes("UNIQUE constraint failed");
}
