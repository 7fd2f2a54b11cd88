/**
 * The composition root: the one place the engine is put together. An engine is a clock, a store and
 * the AWS ports; on them it builds the runner (with the dashboard's sampler), the controller and the
 * notifier. The CLI verbs, `flotilla serve`, the tests and the benches all build theirs here, so they
 * run the same wiring (docs/architecture.md).
 */
import type { AwsPortsFactory } from "../aws/ports.ts";
import type { Clock } from "../core/clock.ts";
import { Controller, type ControllerOptions } from "../controller/controller.ts";
import { Notifier, type NotifierOptions } from "../controller/notifications.ts";
import { DeploymentSampler } from "../controller/samples.ts";
import { Runner, type RunnerOptions } from "../deploy/runner.ts";
import type { Store } from "../store/store.ts";

export interface EngineParts {
  clock: Clock;
  /** Where deployments are recorded. */
  store: Store;
  aws: AwsPortsFactory;
}

/** What a runner may add to the engine's wiring. */
export type EngineRunnerOptions = Omit<RunnerOptions, "store" | "aws" | "clock" | "observe"> & {
  /** Record the dashboard's samples of weights and tasks (default true; a bench measuring the engine alone turns it off). */
  sampling?: boolean;
};

export class Engine implements EngineParts {
  readonly clock: Clock;
  readonly store: Store;
  readonly aws: AwsPortsFactory;

  constructor(parts: EngineParts) {
    this.clock = parts.clock;
    this.store = parts.store;
    this.aws = parts.aws;
  }

  /** A runner on this engine: it drives deployments, records them, and feeds the dashboard's samples (controller/samples.ts). */
  runner(options: EngineRunnerOptions = {}): Runner {
    const { sampling = true, ...rest } = options;
    const { store, aws, clock } = this;
    return new Runner({ store, aws, clock, ...(sampling ? { observe: new DeploymentSampler({ store, aws, clock }).observe } : {}), ...rest });
  }

  /** The GitOps controller on this engine (it builds its runner and Git sources itself). */
  controller(options: Omit<ControllerOptions, "store" | "aws" | "clock">): Controller {
    return new Controller({ store: this.store, aws: this.aws, clock: this.clock, ...options });
  }

  /** Depdef and server notifications, with refusals and failures put on the deployment's timeline in this engine's store. */
  notifier(options: Omit<NotifierOptions, "clock">): Notifier {
    return new Notifier({ clock: this.clock, record: (id, event) => this.store.appendEvents(id, [event]), ...options });
  }
}
