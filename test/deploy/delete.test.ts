/**
 * The delete machine (src/deploy/delete.ts), called directly: scale to 0, delete, wait for
 * INACTIVE (15 minutes at most), for every step and each kind of answer.
 */
import { describe } from "node:test";
import { deleteService, startDelete, type DeleteState } from "../../src/deploy/delete.ts";
import { I, T0, drive, everyStepVisited, rollingSpec, s, service, table, type Row } from "./harness.ts";

const STEPS = ["inspect", "scaleDown", "delete", "waitInactive", "done"] as const satisfies readonly DeleteState["step"][];
const _allSteps: Exclude<DeleteState["step"], (typeof STEPS)[number]> extends never ? true : never = true;
void _allSteps;

const visited = new Set<string>();
const MIN = 60_000;

const at = {
  start: () => startDelete(rollingSpec()),
  inspect: () => drive(deleteService, at.start(), [[I.start, T0]]).last.state,
  scaleDown: () => drive(deleteService, at.inspect(), [[I.service(service()), T0]]).last.state,
  delete: () => drive(deleteService, at.scaleDown(), [[I.service(service({ desiredCount: 0 })), T0 + s(1)]]).last.state,
  /** DeleteService answered at T0 + 2 s: INACTIVE is awaited until T0 + 2 s + 15 min. */
  waitInactive: () => drive(deleteService, at.delete(), [[I.service(service({ status: "DRAINING", desiredCount: 0 })), T0 + s(2)]]).last.state,
  done: () => drive(deleteService, at.inspect(), [[I.service(undefined), T0]]).last.state,
};

const rows: Row<DeleteState>[] = [
  // inspect
  { name: "inspect, start → describe, Deploying, Started", from: at.start, input: I.start, expect: { step: "inspect", effect: "describeService", phase: "Deploying", events: ["Started"] } },
  { name: "inspect, cluster missing → Failed ClusterNotFound", from: at.inspect, input: I.error("ClusterNotFoundException", "Cluster not found."), expect: { step: "done", effect: null, phase: "Failed", reason: "ClusterNotFound" } },
  { name: "inspect, another error → Failed DescribeFailed", from: at.inspect, input: I.error("AccessDeniedException", "no"), expect: { step: "done", phase: "Failed", reason: "DescribeFailed", message: /^AccessDeniedException: no$/ } },
  { name: "inspect, an unexpected answer → describe again", from: at.inspect, input: I.slept, expect: { step: "inspect", effect: "describeService" } },
  { name: "inspect, missing → Succeeded AlreadyDeleted", from: at.inspect, input: I.service(undefined), expect: { step: "done", effect: null, phase: "Succeeded", reason: "AlreadyDeleted" } },
  { name: "inspect, INACTIVE → Succeeded AlreadyDeleted", from: at.inspect, input: I.service(service({ status: "INACTIVE" })), expect: { phase: "Succeeded", reason: "AlreadyDeleted" } },
  { name: "inspect, DRAINING → wait for INACTIVE, 15 minutes at most", from: at.inspect, input: I.service(service({ status: "DRAINING" })), expect: { step: "waitInactive", effect: "sleep", effectHas: { ms: s(10) }, phase: "Stabilizing", state: { deadline: T0 + 15 * MIN } } },
  { name: "inspect, ACTIVE with tasks → scale to 0 first", from: at.inspect, input: I.service(service()), expect: { step: "scaleDown", effect: "updateService", effectHas: { request: { cluster: "apps", service: "web", desiredCount: 0 } }, counts: { desired: 0 } } },
  { name: "inspect, ACTIVE at 0 tasks → delete, not forced", from: at.inspect, input: I.service(service({ desiredCount: 0, runningCount: 0 })), expect: { step: "delete", effect: "deleteService", effectHas: { cluster: "apps", service: "web", force: false } } },
  { name: "inspect, blue/green (EXTERNAL) → delete with force (its task sets cannot be scaled by UpdateService)", from: at.inspect, input: I.service(service({ deploymentController: { type: "EXTERNAL" } })), expect: { step: "delete", effect: "deleteService", effectHas: { force: true } } },
  { name: "inspect, EXTERNAL at 0 → still forced", from: at.inspect, input: I.service(service({ desiredCount: 0, deploymentController: { type: "EXTERNAL" } })), expect: { step: "delete", effectHas: { force: true } } },
  // scaleDown
  { name: "scaleDown, answered → DeleteService, ScaledDown", from: at.scaleDown, input: I.service(service({ desiredCount: 0 })), now: T0 + s(1), expect: { step: "delete", effect: "deleteService", effectHas: { force: false }, events: ["ScaledDown"] } },
  { name: "scaleDown, refused → Failed ScaleDownFailed", from: at.scaleDown, input: I.error("ClientException", "no"), expect: { step: "done", effect: null, phase: "Failed", reason: "ScaleDownFailed", message: /ClientException: no$/ } },
  // delete
  { name: "delete, answered → wait for INACTIVE, ServiceDeleted, Stabilizing", from: at.delete, input: I.service(service({ status: "DRAINING" })), now: T0 + s(2), expect: { step: "waitInactive", effect: "sleep", phase: "Stabilizing", events: ["ServiceDeleted"], state: { deadline: T0 + s(2) + 15 * MIN } } },
  { name: "delete, ServiceNotFoundException → it is gone: Succeeded", from: at.delete, input: I.error("ServiceNotFoundException", "gone"), expect: { step: "done", effect: null, phase: "Succeeded", reason: null } },
  { name: "delete, ServiceNotActiveException → Succeeded", from: at.delete, input: I.error("ServiceNotActiveException", "inactive"), expect: { phase: "Succeeded" } },
  { name: "delete, refused otherwise → Failed DeleteFailed", from: at.delete, input: I.error("InvalidParameterException", "has task sets"), expect: { step: "done", phase: "Failed", reason: "DeleteFailed", message: /has task sets$/ } },
  // waitInactive
  { name: "waitInactive, slept → describe", from: at.waitInactive, input: I.slept, now: T0 + s(12), expect: { step: "waitInactive", effect: "describeService" } },
  { name: "waitInactive, still DRAINING → poll again, the counts recorded", from: at.waitInactive, input: I.service(service({ status: "DRAINING", runningCount: 2, pendingCount: 1 })), now: T0 + s(12), expect: { step: "waitInactive", effect: "sleep", phase: null, counts: { running: 2, pending: 1 } } },
  { name: "waitInactive, INACTIVE → Succeeded", from: at.waitInactive, input: I.service(service({ status: "INACTIVE" })), now: T0 + s(12), expect: { step: "done", effect: null, phase: "Succeeded", reason: null, message: /^service web is deleted \(INACTIVE\)$/ } },
  { name: "waitInactive, no longer listed → Succeeded", from: at.waitInactive, input: I.service(undefined), now: T0 + s(12), expect: { phase: "Succeeded" } },
  { name: "waitInactive, a describe error → Failed DescribeFailed", from: at.waitInactive, input: I.error("AccessDeniedException", "no"), now: T0 + s(12), expect: { step: "done", phase: "Failed", reason: "DescribeFailed" } },
  { name: "waitInactive, 1 ms before 15 minutes → poll again", from: at.waitInactive, input: I.service(service({ status: "DRAINING" })), now: T0 + s(2) + 15 * MIN - 1, expect: { step: "waitInactive", effect: "sleep" } },
  { name: "waitInactive, at 15 minutes → Failed StillDraining", from: at.waitInactive, input: I.service(service({ status: "DRAINING" })), now: T0 + s(2) + 15 * MIN, expect: { step: "done", effect: null, phase: "Failed", reason: "StillDraining", message: /after 15 minutes$/ } },
  // done
  { name: "done: ignores everything", from: at.done, input: I.service(service()), expect: { step: "done", effect: null, phase: null, events: [] } },
];

describe("delete: every transition", () => {
  table(deleteService, rows, visited);
});

describe("delete: controls and restarts", () => {
  table(
    deleteService,
    [
      { name: "abort while inspecting → Aborted before the service was deleted", from: at.inspect, input: I.control("abort", "bob"), expect: { step: "done", effect: null, phase: "Aborted", reason: "Aborted", message: /^aborted by bob before the service was deleted$/ } },
      { name: "abort during the scale-down → Aborted", from: at.scaleDown, input: I.control("abort", "bob"), expect: { phase: "Aborted" } },
      { name: "abort once DeleteService is sent → ControlIgnored, DeleteService goes on", from: at.delete, input: I.control("abort", "bob"), expect: { step: "delete", effect: "deleteService", phase: null, events: ["ControlIgnored"] } },
      { name: "abort while waiting for INACTIVE → ControlIgnored", from: at.waitInactive, input: I.control("abort", "bob"), now: T0 + s(5), expect: { step: "waitInactive", effect: "sleep", events: ["ControlIgnored"] } },
      { name: "pause → ControlIgnored", from: at.scaleDown, input: I.control("pause"), expect: { step: "scaleDown", effect: "updateService", events: ["ControlIgnored"] } },
      { name: "restart with DeleteService in flight → repeat it (a deleted service answers ServiceNotActive)", from: at.delete, input: I.resume, expect: { step: "delete", effect: "deleteService", events: ["Resumed"] } },
      { name: "restart with nothing in flight → describe", from: at.start, input: I.resume, expect: { step: "inspect", effect: "describeService" } },
      { name: "a throttled DeleteService → back off 1 s", from: at.delete, input: I.error("ThrottlingException", "slow down", true), expect: { step: "delete", effect: "sleep", effectHas: { ms: s(1) }, events: ["Retrying"], state: { retries: 1 } } },
    ],
    visited,
  );
});

everyStepVisited(STEPS, visited);
