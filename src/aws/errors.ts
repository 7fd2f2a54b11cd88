/**
 * One error type for every AWS failure, whether it came from the real API through the SDK adapter
 * or from the simulator. `name` is AWS's own error code, so callers branch on the same strings
 * the AWS documentation uses.
 */

export type AwsServiceName = "ECS" | "ELBv2" | "CloudWatch";

/** Error names the engine branches on; others pass through as plain strings. */
export type KnownAwsErrorName =
  | "ClusterNotFoundException"
  | "ServiceNotFoundException"
  | "ServiceNotActiveException"
  | "TaskSetNotFoundException"
  | "InvalidParameterException"
  | "ClientException"
  | "ServerException"
  | "AccessDeniedException"
  | "ThrottlingException"
  | "Throttling"
  | "ValidationError"
  | "ListenerNotFound"
  | "RuleNotFound"
  | "TargetGroupNotFound"
  | "TargetGroupAssociationLimit"
  | "TooManyTargetGroups"
  | "InvalidNextToken"
  | "NetworkError"
  | "TimeoutError";

const THROTTLING = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "RequestThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "SlowDown",
  "TransactionInProgressException",
  "ProvisionedThroughputExceededException",
  "BandwidthLimitExceeded",
  "LimitExceededException",
  "EC2ThrottledException",
]);
const TRANSIENT = new Set([
  "ServerException",
  "InternalFailure",
  "InternalError",
  "ServiceUnavailable",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "NetworkError",
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
]);

export interface AwsErrorInit {
  name: KnownAwsErrorName | (string & {});
  message: string;
  service: AwsServiceName;
  operation: string;
  httpStatus?: number;
  requestId?: string;
  /** Override the classification by name. */
  retryable?: boolean;
  cause?: unknown;
}

export class AwsError extends Error {
  override readonly name: string;
  readonly service: AwsServiceName;
  readonly operation: string;
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;
  /** AWS asked us to slow down; retry after backing off and draining the client-side bucket. */
  readonly throttling: boolean;
  /** Worth retrying as-is (throttling, 5xx, network). */
  readonly retryable: boolean;

  constructor(init: AwsErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = init.name;
    this.service = init.service;
    this.operation = init.operation;
    this.httpStatus = init.httpStatus;
    this.requestId = init.requestId;
    this.throttling = isThrottlingName(init.name) || init.httpStatus === 429;
    this.retryable = init.retryable ?? (this.throttling || TRANSIENT.has(init.name) || (init.httpStatus !== undefined && init.httpStatus >= 500));
  }

  /** `ServiceNotFoundException: Service not found.` — the form the AWS CLI prints. */
  override toString(): string {
    return `${this.name}: ${this.message}`;
  }
}

export function isThrottlingName(name: string): boolean {
  return THROTTLING.has(name);
}

export function isAwsError(e: unknown, name?: string): e is AwsError {
  return e instanceof AwsError && (name === undefined || e.name === name);
}
