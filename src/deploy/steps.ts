/** Building blocks every deployment machine uses: issue an effect, finish, retry transient errors. */
import type { NewEvent } from "../store/types.ts";
import type { ActiveRecord, Effect, EndPhase, Input, Record_, Step } from "./machine.ts";
import { because, event, type Because } from "./registry.ts";

export interface BaseState<Name extends string> {
  step: Name;
  /** The effect last handed to the runner: what a resume repeats (or, for a mutation, checks first). */
  inFlight?: Effect;
  retries: number;
  /** An effect that failed transiently, re-issued after the back-off sleep. */
  pendingRetry?: Effect;
}

const MAX_RETRIES = 8;

/** A wait of `ms` before the next status read of a deployment polling every `pollIntervalSeconds` (machine.ts, `grid`). */
export const pollSleep = (ms: number, pollIntervalSeconds: number): Effect => ({ type: "sleep", ms, grid: pollIntervalSeconds * 1000 });

export function go<S extends BaseState<string>>(state: S, step: S["step"], effect: Effect, record: ActiveRecord = {}): Step<S> {
  return { state: { ...state, step, inFlight: effect, retries: step === state.step ? state.retries : 0 }, effect, record };
}

/** How a deployment ended: a reason (from the registry) and its message, or no reason for a plain success. */
export type Outcome = Because | { reason: null; message: string };

/** The step that ends a deployment: no effect left, the end phase and its event. */
export function finish<S extends BaseState<string>>(state: S, done: S["step"], phase: EndPhase, outcome: Outcome, events: NewEvent[] = []): Step<S> {
  const next = { ...state, step: done };
  delete next.inFlight;
  delete next.pendingRetry;
  const { reason, message } = outcome;
  return { state: next, record: { phase, reason, message, events: [...events, event(phase, { message }, reason ? { reason } : undefined)] } };
}

/** A plain success: no reason, just what happened. */
export const success = (message: string): Outcome => ({ reason: null, message });

/** Merge extra record fields (counts, progress events) into a step's record; the step's own win. */
export function withRecord<S>(step: Step<S>, extra: Record_): Step<S> {
  return { ...step, record: { ...extra, ...step.record, events: [...(extra.events ?? []), ...(step.record.events ?? [])] } };
}

/**
 * Back off and retry the effect in flight; give up (AwsUnavailable) after a few tries: the
 * machine's `gaveUp` decides what that means (blue/green undoes what it made), else it ends Failed.
 */
export function retry<S extends BaseState<string>>(state: S, input: Extract<Input, { type: "error" }>, done: S["step"], gaveUp?: CommonHandlers<S>["gaveUp"], now = 0): Step<S> {
  const call = input.error.operation ? `${input.error.operation}: ` : "";
  if (state.retries >= MAX_RETRIES || !state.inFlight) {
    const why = because("AwsUnavailable", { error: `${call}${input.error.name}: ${input.error.message}`, retries: state.retries });
    const given = { ...state, retries: 0 };
    delete given.pendingRetry;
    return gaveUp?.(given, why, now) ?? finish(given, done, "Failed", why);
  }
  const delay = Math.min(30_000, 1000 * 2 ** state.retries);
  const wait: Effect = { type: "sleep", ms: delay };
  return {
    state: { ...state, retries: state.retries + 1, pendingRetry: state.pendingRetry ?? state.inFlight, inFlight: wait },
    effect: wait,
    record: { events: [event("Retrying", { error: `${call}${input.error.name}`, seconds: delay / 1000 })] },
  };
}

/** After a back-off sleep, the effect that failed goes again. */
export function reissue<S extends BaseState<string>>(state: S): Step<S> | undefined {
  if (!state.pendingRetry) return undefined;
  const effect = state.pendingRetry;
  const next = { ...state, inFlight: effect };
  delete next.pendingRetry;
  return { state: next, effect, record: {} };
}

/** Why reading the service before anything changed failed: no such cluster, access denied, or another error. */
export function describeRefused(error: { name: string; message: string }): Because {
  const text = error.message;
  if (error.name === "ClusterNotFoundException") return because("ClusterNotFound", { error: text });
  return error.name === "AccessDeniedException" ? because("AccessDenied", { error: text }) : because("DescribeFailed", { variant: "error", error: text });
}

export function errorText(input: Input): string {
  return input.type === "error" ? `${input.error.name}: ${input.error.message}` : `unexpected ${input.type}`;
}

export interface CommonHandlers<S extends BaseState<string>> {
  /** The machine's terminal step name. */
  done: S["step"];
  /** Inputs that are real answers: they end a run of transient errors. */
  answers: readonly Input["type"][];
  resume(state: S): Step<S>;
  control(state: S, input: Extract<Input, { type: "control" }>, now: number): Step<S>;
  /** When retries ran out: the step that undoes what the deployment made, or undefined to end Failed as it stands. */
  gaveUp?: (state: S, why: Because, now: number) => Step<S> | undefined;
}

/**
 * What every machine does before its own step logic: nothing once finished, the resume and control
 * handlers, backing off on transient errors and re-issuing the effect afterwards. Returns a step when
 * it handled the input, else the state to carry on with.
 */
export function handleCommon<S extends BaseState<string>>(state: S, input: Input, now: number, h: CommonHandlers<S>): Step<S> | S {
  if (state.step === h.done) return { state, record: {} };
  if (input.type === "resume") return h.resume(state);
  if (input.type === "control") return h.control(state, input, now);
  if (input.type === "error" && input.error.retryable) return retry(state, input, h.done, h.gaveUp, now);
  if (input.type === "slept" && state.pendingRetry) return reissue(state)!;
  return h.answers.includes(input.type) && state.retries > 0 ? { ...state, retries: 0 } : state;
}

export function isStep<S>(x: Step<S> | S): x is Step<S> {
  return typeof x === "object" && x !== null && "record" in x;
}
