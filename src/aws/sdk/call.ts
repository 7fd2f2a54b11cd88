/** One place every SDK call passes through: rate limiter, retry with jitter, error mapping. */
import { callWithRetry, type RetryContext } from "../retry.ts";
import { familyOf } from "../rate-limits.ts";
import type { AwsServiceName } from "../errors.ts";
import { toAwsError } from "./errors.ts";
import { isAwsError } from "../errors.ts";

/** Told about every attempt that reached AWS: its operation and whether AWS throttled it (metrics). */
export type AwsCallObserver = (service: string, operation: string, throttled: boolean) => void;

export type Caller = <T>(operation: string, send: () => Promise<T>) => Promise<T>;

export function makeCaller(service: AwsServiceName, ctx: RetryContext, onCall?: (operation: string) => void, observe?: AwsCallObserver): Caller {
  return <T>(operation: string, send: () => Promise<T>) =>
    callWithRetry(
      familyOf(operation),
      async () => {
        onCall?.(operation);
        try {
          const result = await send();
          observe?.(service, operation, false);
          return result;
        } catch (e) {
          const err = toAwsError(e, service, operation);
          observe?.(service, operation, err.throttling);
          throw err;
        }
      },
      ctx,
      operation,
    );
}

/** The same observation for a call that already yields AwsErrors (the simulator's ports). */
export async function observed<T>(observe: AwsCallObserver | undefined, service: string, operation: string, call: () => Promise<T>): Promise<T> {
  if (!observe) return call();
  try {
    const result = await call();
    observe(service, operation, false);
    return result;
  } catch (e) {
    observe(service, operation, isAwsError(e) && e.throttling);
    throw e;
  }
}

/**
 * Follow a token until the last page. The SDK's generated paginators call `client.send` directly,
 * which would bypass our limiter and retry for every page after the first, so pages go through `call`.
 */
export async function allPages<P, I>(fetchPage: (token: string | undefined) => Promise<P>, items: (p: P) => I[] | undefined, next: (p: P) => string | undefined): Promise<I[]> {
  const out: I[] = [];
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    out.push(...(items(page) ?? []));
    const prev = token;
    token = next(page);
    if (token !== undefined && token === prev) break; // a service returning the same token forever
  } while (token);
  return out;
}
