/** One place every SDK call passes through: rate limiter, retry with jitter, error mapping. */
import { callWithRetry, type RetryContext } from "../retry.ts";
import { familyOf } from "../rate-limits.ts";
import type { AwsServiceName } from "../errors.ts";
import { toAwsError } from "./errors.ts";

export type Caller = <T>(operation: string, send: () => Promise<T>) => Promise<T>;

export function makeCaller(service: AwsServiceName, ctx: RetryContext, onCall?: (operation: string) => void): Caller {
  return <T>(operation: string, send: () => Promise<T>) =>
    callWithRetry(
      familyOf(operation),
      async () => {
        onCall?.(operation);
        try {
          return await send();
        } catch (e) {
          throw toAwsError(e, service, operation);
        }
      },
      ctx,
    );
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
