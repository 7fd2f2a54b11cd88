/**
 * Errors in the shapes AWS's services answer with, so the SDK raises the same named exceptions it
 * would against AWS: JSON bodies with `__type` (and `x-amzn-query-error` for CloudWatch's
 * query-compatible JSON), `<ErrorResponse><Error><Code>` for awsQuery, `<Response><Errors>` for EC2,
 * and each error's HTTP status as the service model gives it.
 */
import { AwsError } from "../../aws/errors.ts";
import { xmlEscape } from "./serde.ts";

/** A failure the wire layer itself answers (unknown operation, unreadable request, wrong Region). */
export class WireError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/** What the service model says about an error code: its shape name and HTTP status. */
export interface ErrorShape {
  shape: string;
  status: number;
  server: boolean;
}

type ErrorTuple = readonly [number, string, string, { awsQueryError?: [string, number]; error?: string; httpError?: number }];

/** Error codes → shapes, from the error schemas an SDK client module exports (`<Name>$`, kind -3). */
export function errorShapes(sdk: Record<string, unknown>): Map<string, ErrorShape> {
  const out = new Map<string, ErrorShape>();
  for (const [key, v] of Object.entries(sdk)) {
    if (!key.endsWith("$") || !Array.isArray(v) || v[0] !== -3) continue;
    const [, , name, traits] = v as unknown as ErrorTuple;
    const server = traits.error === "server";
    const status = traits.awsQueryError?.[1] ?? traits.httpError ?? (server ? 500 : 400);
    const shape = { shape: name, status, server };
    out.set(name, shape);
    if (traits.awsQueryError) out.set(traits.awsQueryError[0], shape);
  }
  return out;
}

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type ErrorStyle = { kind: "json"; namespace?: string; queryCompatible: boolean; contentType: string } | { kind: "query"; xmlns: string } | { kind: "ec2" };

/** An error the simulator raised (AwsError), the wire layer's own, or an unexpected one (answered as the service's internal error). */
export function renderError(e: unknown, style: ErrorStyle, shapes: Map<string, ErrorShape>, requestId: string): RenderedError {
  let code: string;
  let message: string;
  let status: number;
  if (e instanceof AwsError) {
    code = e.name;
    message = e.message;
    status = shapes.get(code)?.status ?? e.httpStatus ?? 400;
  } else if (e instanceof WireError) {
    code = e.code;
    message = e.message;
    status = e.status;
  } else {
    code = style.kind === "json" && !style.queryCompatible ? "ServerException" : "InternalFailure";
    message = "The simulator failed to process the request.";
    status = 500;
  }
  const fault = status >= 500 ? "Receiver" : "Sender";
  const base = { "x-amzn-requestid": requestId };
  if (style.kind === "json") {
    const shape = shapes.get(code)?.shape ?? code;
    const type = style.queryCompatible && style.namespace ? `${style.namespace}#${shape}` : shape;
    return {
      status,
      headers: { ...base, "content-type": style.contentType, "x-amzn-errortype": type, ...(style.queryCompatible ? { "x-amzn-query-error": `${code};${fault}` } : {}) },
      body: JSON.stringify({ __type: type, message }),
    };
  }
  if (style.kind === "query") {
    return {
      status,
      headers: { ...base, "content-type": "text/xml" },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${style.xmlns}"><Error><Type>${fault}</Type><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>\n`,
    };
  }
  return {
    status,
    headers: { ...base, "content-type": "text/xml" },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>\n`,
  };
}
