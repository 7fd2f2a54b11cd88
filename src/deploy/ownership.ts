/**
 * Which deployments this process owns, and the heartbeat that keeps them. Several processes may
 * share one store (replicas of `flotilla serve`, a CLI `apply` beside them): one process drives a
 * deployment at a time, holding a lease on it in the store — its owner id, a fencing token that
 * grows on every acquisition, and an expiry. The runner acts on a deployment only while it holds
 * that lease and every state write carries the token, so a process that lost the lease (stalled,
 * partitioned, or stopping) is refused by the store instead of fighting its successor.
 *
 * Time: the lease is counted from when a renewal was *sent*, so this process's idea of when its lease
 * ends is never later than the store's. Before an AWS mutation the runner checks that at least one
 * heartbeat of the lease is left, renewing first when it is not (docs/store.md, "Several replicas").
 */
import type { Clock } from "../core/clock.ts";
import type { Store } from "../store/store.ts";
import type { Deployment, DeploymentOwner, Fence, NewEvent } from "../store/types.ts";
import { event } from "./registry.ts";

export const DEFAULT_LEASE_TTL_MS = 30_000;

export interface OwnershipOptions {
  store: Store;
  clock: Clock;
  /** This process's owner id: unique per process, so a restart is a new owner with a new token. */
  owner: string;
  /** How long a lease lasts without renewal (default 30 s). */
  ttlMs?: number;
  /** How often leases are renewed (default a third of the TTL). */
  heartbeatMs?: number;
  /** A deployment whose lease this process lost (another process adopted it, or renewing failed until it expired). */
  onLost?: (id: string, why: string) => void;
}

/** Why a held deployment stops being driven here. */
export type HandOver = "stopping" | "lost";

/** The run of a deployment was cut short because this process no longer drives it. */
export class HandedOver extends Error {
  readonly why: HandOver;
  constructor(why: HandOver, message: string) {
    super(message);
    this.name = "HandedOver";
    this.why = why;
  }
}

interface Held {
  token: number;
  /** This process's bound on the lease: the send time of the last successful renewal plus the TTL. */
  validUntil: number;
  /** Aborted when the deployment must stop here: `reason` is a HandedOver. */
  stop: AbortController;
}

export class Ownership {
  readonly owner: string;
  readonly ttlMs: number;
  readonly heartbeatMs: number;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly onLost: OwnershipOptions["onLost"];
  private readonly held = new Map<string, Held>();
  private beating: Promise<void> | undefined;
  private wake: AbortController | undefined;

  constructor(options: OwnershipOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.owner = options.owner;
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.heartbeatMs = options.heartbeatMs ?? Math.max(1, Math.floor(this.ttlMs / 3));
    if (!(this.heartbeatMs < this.ttlMs)) throw new RangeError(`the heartbeat (${this.heartbeatMs} ms) must be shorter than the lease TTL (${this.ttlMs} ms)`);
    this.onLost = options.onLost;
  }

  /** The ids of the deployments this process holds. */
  get ids(): string[] {
    return [...this.held.keys()];
  }

  holds(id: string): boolean {
    return this.held.has(id);
  }

  /** For `createDeployment`: this process owns what it creates. Call `track` with the result. */
  newOwner(): { owner: { id: string; ttlMs: number }; sentAt: number } {
    return { owner: { id: this.owner, ttlMs: this.ttlMs }, sentAt: this.clock.now() };
  }

  /** Start holding a deployment the store says we own (created or acquired at `sentAt`). */
  track(d: Deployment, sentAt: number): void {
    if (d.owner?.id !== this.owner) throw new Error(`internal error: deployment ${d.id} is not owned by ${this.owner}`);
    this.held.set(d.id, { token: d.owner.token, validUntil: sentAt + this.ttlMs, stop: new AbortController() });
    this.startHeartbeat();
  }

  /**
   * Take over a deployment no live process owns (its owner's lease expired or was released, or it
   * never had one), recording the adoption on its timeline. Undefined when another process holds
   * it (or got it first) or it has finished.
   */
  async adopt(d: Deployment): Promise<Deployment | undefined> {
    if (this.held.has(d.id)) return undefined; // already driven here
    const sentAt = this.clock.now();
    const adopted = await this.store.acquireDeployment(d.id, this.owner, this.ttlMs, (previous) => [adoptedEvent(this.owner, previous, sentAt)]);
    if (!adopted) return undefined;
    this.track(adopted, sentAt);
    return adopted;
  }

  /** The fence a state write of this deployment carries. */
  fence(id: string): Fence {
    const h = this.held.get(id);
    if (!h) throw new HandedOver("lost", `deployment ${id} is not owned by ${this.owner}`);
    return { owner: this.owner, token: h.token };
  }

  /** Aborted when the deployment must stop in this process (its reason is a HandedOver). */
  signal(id: string): AbortSignal {
    const h = this.held.get(id);
    if (!h) throw new HandedOver("lost", `deployment ${id} is not owned by ${this.owner}`);
    return h.stop.signal;
  }

  /** Throws the HandedOver when the deployment must stop here. */
  check(id: string): void {
    const h = this.held.get(id);
    if (!h) throw new HandedOver("lost", `deployment ${id} is not owned by ${this.owner}`);
    if (h.stop.signal.aborted) throw h.stop.signal.reason as HandedOver;
  }

  /**
   * What a lease must have left, by this process's own count, for an AWS mutation to be sent: half
   * its TTL, and at least one heartbeat. On time, heartbeats keep two thirds of it; a lease that ran
   * down (late heartbeats, a slow store) is renewed first. The rest is the margin for the call to
   * reach AWS before another process may adopt the deployment.
   */
  private get margin(): number {
    return Math.max(this.heartbeatMs, this.ttlMs / 2);
  }

  /**
   * Before an AWS mutation: the lease must have `margin` left; when it has not, renew it first.
   * Throws HandedOver when the lease is gone, so nothing is sent to AWS without it.
   */
  async ensure(id: string): Promise<void> {
    this.check(id);
    const h = this.held.get(id)!;
    if (this.clock.now() < h.validUntil - this.margin) return;
    await this.renew([id]);
    this.check(id);
    if (this.clock.now() >= h.validUntil - this.margin) {
      this.lose(id, "its lease could not be renewed in time");
      this.check(id);
    }
  }

  /** Stop holding a deployment (it finished, stopped with an error, or was lost); its lease ends with the deployment or expires. */
  forget(id: string): void {
    this.held.delete(id);
    if (this.held.size === 0) this.wake?.abort();
  }

  /** Give the deployment up now so another process adopts it at once: its lease is released with an event saying why. */
  async release(id: string, why: string): Promise<boolean> {
    const h = this.held.get(id);
    if (!h) return false;
    this.forget(id);
    return this.store.releaseDeployment(id, { owner: this.owner, token: h.token }, [event("Released", { owner: this.owner, token: h.token, why }, { owner: this.owner, token: h.token })]);
  }

  /** Ask every held deployment to stop at its next safe point (each is then released by its runner). */
  stopAll(): void {
    for (const h of this.held.values()) if (!h.stop.signal.aborted) h.stop.abort(new HandedOver("stopping", `${this.owner} is stopping`));
  }

  private lose(id: string, why: string): void {
    const h = this.held.get(id);
    if (!h || h.stop.signal.aborted) return;
    h.stop.abort(new HandedOver("lost", `${this.owner} lost deployment ${id}: ${why}`));
    this.onLost?.(id, why);
  }

  /** One renewal of the given held leases: those the store did not renew are lost. */
  private async renew(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const sentAt = this.clock.now();
    let renewed: Set<string>;
    try {
      renewed = new Set(await this.store.renewDeployments(this.owner, ids, this.ttlMs));
    } catch {
      // The store is unreachable: the leases run down; `ensure` keeps mutations from outliving them.
      return;
    }
    for (const id of ids) {
      const h = this.held.get(id);
      if (!h) continue;
      if (renewed.has(id)) h.validUntil = sentAt + this.ttlMs;
      else this.lose(id, "another process owns it now");
    }
  }

  private startHeartbeat(): void {
    if (this.beating || this.held.size === 0) return;
    this.beating = (async () => {
      while (this.held.size > 0) {
        this.wake = new AbortController();
        try {
          await this.clock.sleep(this.heartbeatMs, this.wake.signal);
        } catch {
          // woken: nothing left to hold
        }
        await this.renew(this.ids);
      }
    })().finally(() => {
      this.beating = undefined;
      this.startHeartbeat(); // something was taken on while the loop was ending
    });
  }
}

/** The timeline's record of an adoption: who took over from whom, with which token. */
function adoptedEvent(owner: string, previous: DeploymentOwner | null, at: number): NewEvent {
  const data = { owner, token: (previous?.token ?? 0) + 1, previous };
  if (!previous) return event("Adopted", { variant: "unowned", owner, token: data.token }, data);
  const ended = new Date(Math.min(previous.expiresAt, at)).toISOString();
  return event("Adopted", { variant: "expired", owner, token: data.token, previous: previous.id, ended }, data);
}
