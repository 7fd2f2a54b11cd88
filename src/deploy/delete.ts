/**
 * Deleting a service whose svcdef was removed: scale to 0, delete, wait until INACTIVE.
 * Every step is safe to repeat after a crash (a repeated delete of a deleted service is done).
 */
import type { Phase } from "../store/types.ts";
import type { Effect, Machine, Step } from "./machine.ts";
import { errorText, ev, finish as finishAt, go, handleCommon, isStep, sleepFor, type BaseState } from "./steps.ts";
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
const finish = (s: DeleteState, phase: Phase, reason: string | null, message: string) => finishAt(s, "done", phase, reason, message);
const poll = (s: DeleteState) => sleepFor(s.spec.depdef.stabilityCheck.pollInterval);

export const deleteService: Machine<DeleteState> = {
  next(state, input, now) {
    const common = handleCommon(state, input, now, {
      done: "done",
      answers: ["service"],
      resume: (s) => (s.inFlight ? { state: s, effect: s.inFlight, record: { events: [ev("Resumed", `resumed after a restart in step ${s.step}`)] } } : go(s, "inspect", describe(s))),
      control: (s, c) => {
        if (c.action === "abort" && (s.step === "inspect" || s.step === "scaleDown")) return finish(s, "Aborted", "Aborted", `aborted by ${c.by} before the service was deleted`);
        return { state: s, ...(s.inFlight ? { effect: s.inFlight } : {}), record: { events: [ev("ControlIgnored", `${c.action} (by ${c.by}) cannot stop a delete that has been sent`)] } };
      },
    });
    if (isStep(common)) return common;
    state = common;
    const gone = (s: DeleteState) => finish(s, "Succeeded", null, `service ${s.spec.service} is deleted (INACTIVE)`);
    switch (state.step) {
      case "inspect": {
        if (input.type === "start") return go(state, "inspect", describe(state), { phase: "Deploying", events: [ev("Started", `deleting service ${state.spec.service} from ${state.spec.cluster} (${state.spec.region}): its svcdef was removed`)] });
        if (input.type === "error") return finish(state, "Failed", input.error.name === "ClusterNotFoundException" ? "ClusterNotFound" : "DescribeFailed", errorText(input));
        if (input.type !== "service") return go(state, "inspect", describe(state));
        const s = input.service;
        if (!s || s.status === "INACTIVE") return finish(state, "Succeeded", "AlreadyDeleted", `service ${state.spec.service} does not exist or is already INACTIVE: nothing to delete`);
        if (s.status === "DRAINING") return go({ ...state, deadline: now + INACTIVE_TIMEOUT_MS }, "waitInactive", poll(state), { phase: "Stabilizing" });
        const external = s.deploymentController.type === "EXTERNAL";
        if (s.desiredCount > 0 && !external) {
          return go(state, "scaleDown", { type: "updateService", request: { cluster: state.spec.cluster, service: state.spec.service, desiredCount: 0 } }, { counts: { desired: 0 } });
        }
        return go(state, "delete", { type: "deleteService", cluster: state.spec.cluster, service: state.spec.service, force: external || s.desiredCount > 0 });
      }
      case "scaleDown":
        if (input.type !== "service") return finish(state, "Failed", "ScaleDownFailed", `UpdateService desiredCount 0 failed: ${errorText(input)}`);
        return go(state, "delete", { type: "deleteService", cluster: state.spec.cluster, service: state.spec.service, force: false }, { events: [ev("ScaledDown", "scaled to 0 tasks")] });
      case "delete":
        if (input.type === "error" && /ServiceNotFound|ServiceNotActive/.test(input.error.name)) return gone(state);
        if (input.type !== "service") return finish(state, "Failed", "DeleteFailed", `DeleteService failed: ${errorText(input)}`);
        return go({ ...state, deadline: now + INACTIVE_TIMEOUT_MS }, "waitInactive", poll(state), { phase: "Stabilizing", events: [ev("ServiceDeleted", "DeleteService accepted; waiting for INACTIVE")] });
      case "waitInactive":
        if (input.type === "slept") return go(state, "waitInactive", describe(state));
        if (input.type === "service" && (!input.service || input.service.status === "INACTIVE")) return gone(state);
        if (input.type === "error") return finish(state, "Failed", "DescribeFailed", errorText(input));
        if (now >= (state.deadline ?? Infinity)) return finish(state, "Failed", "StillDraining", `service ${state.spec.service} is still DRAINING after ${INACTIVE_TIMEOUT_MS / 60000} minutes`);
        return go(state, "waitInactive", poll(state), input.type === "service" && input.service ? { counts: { running: input.service.runningCount, pending: input.service.pendingCount } } : {});
      case "done":
        return { state, record: {} } satisfies Step<DeleteState>;
    }
  },
};
