/** SDK exceptions → AwsError, keeping AWS's error name so callers see the same thing as with the simulator. */
import { AwsError, type AwsServiceName } from "../errors.ts";

interface SdkLikeError {
  name?: string;
  message?: string;
  Code?: string;
  code?: string;
  $fault?: "client" | "server";
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

export function toAwsError(e: unknown, service: AwsServiceName, operation: string): AwsError {
  if (e instanceof AwsError) return e;
  if (typeof e !== "object" || e === null) {
    return new AwsError({ name: "UnknownError", message: String(e), service, operation });
  }
  const err = e as SdkLikeError;
  // Network failures from the HTTP handler carry a Node error code, not an AWS one.
  const name = err.Code ?? (err.name && err.name !== "Error" ? err.name : undefined) ?? err.code ?? "UnknownError";
  const httpStatus = err.$metadata?.httpStatusCode;
  const retryable = err.$retryable ? true : err.$fault === "server" ? true : undefined;
  return new AwsError({
    name,
    message: err.message ?? name,
    service,
    operation,
    httpStatus,
    requestId: err.$metadata?.requestId,
    retryable,
    cause: e,
  });
}
