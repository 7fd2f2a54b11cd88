/**
 * Deleting a service whose svcdef was removed: scale to 0, delete, wait until INACTIVE.
 * Every step is safe to repeat after a crash (a repeated delete of a deleted service is done).
 */
import type { Effect, EndPhase, Machine, Step } from "./machine.ts";
import { because, event } from "./registry.ts";
import { errorText, finish as finishAt, go, handleCommon, isStep, pollSleep, success, type BaseState, type Outcome } from "./steps.ts";
import type { DeploySpec } from "./spec.ts";

type DeleteStep = "inspect" | "scaleDown" | "delete" | "waitInactive" | "done";

export interface DeleteState extends BaseState<DeleteStep> {
  machine: "delete";
  spec: DeploySpec;
  deadline?: number;
}

/** How long a DRAINING service may take to become INACTIVE before we call it failed. */
const INACTIVE_TIMEOUT_MS = 15 * 60 * 1000;

export function startDelete(spec: DeploySpec): DeleteState {
  return { machine: "delete", spec, step: "inspect", retries: 0 };
}

const describe = (s: DeleteState): Effect => ({ type: "describeService", cluster: s.spec.cluster, service: s.spec.service });
const finish = (s: DeleteState, phase: EndPhase, outcome: Outcome) => finishAt(s, "done", phase, outcome);
const poll = (s: DeleteState) => pollSleep(s.spec.depdef.stabilityCheck.pollInterval * 1000, s.spec.depdef.stabilityCheck.pollInterval);

export const deleteService: Machine<DeleteState> = {
  next(state, input, now) {
    const common = handleCommon(state, input, now, {
      done: "done",
      answers: ["service"],
      resume: (s) => (s.inFlight ? { state: s, effect: s.inFlight, record: { events: [event("Resumed", { variant: "restart", step: s.step })] } } : go(s, "inspect", describe(s))),
      control: (s, c) => {
        if (c.action === "abort" && (s.step === "inspect" || s.step === "scaleDown")) return finish(s, "Aborted", because("Aborted", { by: c.by, when: " before the service was deleted" }));
        return { state: s, ...(s.inFlight ? { effect: s.inFlight } : {}), record: { events: [event("ControlIgnored", { variant: "delete", action: c.action, by: c.by })] } };
      },
    });
    if (isStep(common)) return common;
    state = common;
    const gone = (s: DeleteState) => finish(s, "Succeeded", success(`service ${s.spec.service} is deleted (INACTIVE)`));
    switch (state.step) {
      case "inspect": {
        if (input.type === "start") return go(state, "inspect", describe(state), { phase: "Deploying", events: [event("Started", { variant: "delete", service: state.spec.service, cluster: state.spec.cluster, region: state.spec.region })] });
        if (input.type === "error") return finish(state, "Failed", input.error.name === "ClusterNotFoundException" ? because("ClusterNotFound", { error: errorText(input) }) : because("DescribeFailed", { variant: "error", error: errorText(input) }));
        if (input.type !== "service") return go(state, "inspect", describe(state));
        const s = input.service;
        if (!s || s.status === "INACTIVE") return finish(state, "Succeeded", because("AlreadyDeleted", { service: state.spec.service }));
        if (s.status === "DRAINING") return go({ ...state, deadline: now + INACTIVE_TIMEOUT_MS }, "waitInactive", poll(state), { phase: "Stabilizing" });
        const external = s.deploymentController.type === "EXTERNAL";
        if (s.desiredCount > 0 && !external) {
          return go(state, "scaleDown", { type: "updateService", request: { cluster: state.spec.cluster, service: state.spec.service, desiredCount: 0 } }, { counts: { desired: 0 } });
        }
        return go(state, "delete", { type: "deleteService", cluster: state.spec.cluster, service: state.spec.service, force: external || s.desiredCount > 0 });
      }
      case "scaleDown":
        if (input.type !== "service") return finish(state, "Failed", because("ScaleDownFailed", { error: errorText(input) }));
        return go(state, "delete", { type: "deleteService", cluster: state.spec.cluster, service: state.spec.service, force: false }, { events: [event("ScaledDown", {})] });
      case "delete":
        if (input.type === "error" && /ServiceNotFound|ServiceNotActive/.test(input.error.name)) return gone(state);
        if (input.type !== "service") return finish(state, "Failed", because("DeleteFailed", { error: errorText(input) }));
        return go({ ...state, deadline: now + INACTIVE_TIMEOUT_MS }, "waitInactive", poll(state), { phase: "Stabilizing", events: [event("ServiceDeleted", {})] });
      case "waitInactive":
        if (input.type === "slept") return go(state, "waitInactive", describe(state));
        if (input.type === "service" && (!input.service || input.service.status === "INACTIVE")) return gone(state);
        if (input.type === "error") return finish(state, "Failed", because("DescribeFailed", { variant: "error", error: errorText(input) }));
        if (now >= (state.deadline ?? Infinity)) return finish(state, "Failed", because("StillDraining", { service: state.spec.service, minutes: INACTIVE_TIMEOUT_MS / 60000 }));
        return go(state, "waitInactive", poll(state), input.type === "service" && input.service ? { counts: { running: input.service.runningCount, pending: input.service.pendingCount } } : {});
      case "done":
        return { state, record: {} } satisfies Step<DeleteState>;
    }
  },
};
