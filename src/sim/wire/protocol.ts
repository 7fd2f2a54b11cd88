/**
 * Which service and operation a request is for, and its input in the SDK's shape. JSON protocols
 * name the operation in `X-Amz-Target` (`AmazonEC2ContainerServiceV20141113.CreateService`,
 * `GraniteServiceVersion20100801.DescribeAlarms`); Query protocols carry `Action` in the form body
 * and the service in the SigV4 credential scope of the Authorization header
 * (`Credential=AKID/20260101/us-east-1/elasticloadbalancing/aws4_request`), or, unsigned, its
 * `Version`. Signatures are not checked: any credentials will do.
 */
import type { IncomingHttpHeaders } from "node:http";
import * as cloudwatchSdk from "@aws-sdk/client-cloudwatch";
import * as ecsSdk from "@aws-sdk/client-ecs";
import * as elbv2Sdk from "@aws-sdk/client-elastic-load-balancing-v2";
import { CLOUDWATCH_OPERATIONS } from "./cloudwatch.ts";
import { EC2_OPERATIONS } from "./ec2.ts";
import { ECS_OPERATIONS } from "./ecs.ts";
import { ELBV2_OPERATIONS } from "./elbv2.ts";
import { errorShapes, WireError, type ErrorShape, type ErrorStyle } from "./errors.ts";
import type { Handler, Rec } from "./operation.ts";
import { fromQuery, inputSchema, QueryParams, WireInputError, type OperationSchema } from "./serde.ts";

export type ServiceName = "ECS" | "ELBv2" | "CloudWatch";

export interface WireService {
  name: ServiceName;
  /** The SigV4 signing name in the credential scope. */
  signingName: string;
  sdk: Record<string, unknown>;
  operations: Record<string, Handler>;
  json?: { target: string; contentType: string; queryCompatible: boolean; namespace: string };
  query?: { version: string; xmlns: string };
}

export const SERVICES: Record<ServiceName, WireService> = {
  ECS: {
    name: "ECS",
    signingName: "ecs",
    sdk: ecsSdk,
    operations: ECS_OPERATIONS,
    json: { target: "AmazonEC2ContainerServiceV20141113", contentType: "application/x-amz-json-1.1", queryCompatible: false, namespace: "com.amazonaws.ecs" },
  },
  ELBv2: {
    name: "ELBv2",
    signingName: "elasticloadbalancing",
    sdk: elbv2Sdk,
    operations: ELBV2_OPERATIONS,
    query: { version: "2015-12-01", xmlns: "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/" },
  },
  // The SDK we ship speaks JSON 1.0 to CloudWatch (query-compatible); older SDKs and the AWS CLI v1 speak awsQuery.
  CloudWatch: {
    name: "CloudWatch",
    signingName: "monitoring",
    sdk: cloudwatchSdk,
    operations: CLOUDWATCH_OPERATIONS,
    json: { target: "GraniteServiceVersion20100801", contentType: "application/x-amz-json-1.0", queryCompatible: true, namespace: "com.amazonaws.cloudwatch" },
    query: { version: "2010-08-01", xmlns: "http://monitoring.amazonaws.com/doc/2010-08-01/" },
  },
};

const EC2_VERSION = "2016-11-15";

const shapeCache = new Map<ServiceName, Map<string, ErrorShape>>();
export function shapesOf(service: ServiceName): Map<string, ErrorShape> {
  let m = shapeCache.get(service);
  if (!m) {
    m = errorShapes(SERVICES[service].sdk);
    shapeCache.set(service, m);
  }
  return m;
}

export function operationSchema(service: ServiceName, operation: string): OperationSchema | undefined {
  const v = SERVICES[service].sdk[`${operation}$`];
  return Array.isArray(v) && v[0] === 9 ? (v as unknown as OperationSchema) : undefined;
}

/** A call the simulator answers. */
export interface WireCall {
  service: ServiceName;
  operation: string;
  input: Rec;
}

export type ParsedRequest = { kind: "call"; protocol: "json" | "query"; call: WireCall } | { kind: "ec2"; operation: string; params: URLSearchParams };

export interface Caller {
  /** The `x-flotilla-caller` header, else the access key id of the signature, else `anonymous`. */
  id: string;
  /** The SDK's application id (`AWS_SDK_UA_APP_ID`) from the user agent, if set. */
  app?: string;
}

export interface Classified {
  style: ErrorStyle;
  shapes: Map<string, ErrorShape>;
  caller: Caller;
  /** The request, or why it cannot be served (answered in `style`). */
  request: ParsedRequest | WireError;
}

interface Scope {
  accessKey: string;
  region: string;
  service: string;
}

function credentialScope(headers: IncomingHttpHeaders): Scope | undefined {
  const m = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(headers["authorization"] ?? "");
  return m ? { accessKey: m[1]!, region: m[2]!, service: m[3]! } : undefined;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function callerOf(headers: IncomingHttpHeaders, scope: Scope | undefined): Caller {
  const ua = `${header(headers, "x-amz-user-agent") ?? ""} ${header(headers, "user-agent") ?? ""}`;
  const app = /(?:^|\s)app\/([^\s]+)/.exec(ua)?.[1];
  return { id: header(headers, "x-flotilla-caller") ?? scope?.accessKey ?? "anonymous", ...(app ? { app } : {}) };
}

const styleOf = (s: WireService, protocol: "json" | "query"): ErrorStyle =>
  protocol === "json" && s.json ? { kind: "json", contentType: s.json.contentType, queryCompatible: s.json.queryCompatible, namespace: s.json.namespace } : { kind: "query", xmlns: s.query?.xmlns ?? "" };

function wrongRegion(scope: Scope | undefined, region: string, json: boolean): WireError | undefined {
  if (!scope || scope.region === region) return undefined;
  return new WireError(json ? "InvalidSignatureException" : "SignatureDoesNotMatch", `Credential should be scoped to a valid region: this simulator plays ${region}, not ${scope.region}.`, 403);
}

/** Read a request: its service, operation and input, or the error to answer it with. */
export function classify(headers: IncomingHttpHeaders, body: string, region: string): Classified {
  const scope = credentialScope(headers);
  const caller = callerOf(headers, scope);
  const target = header(headers, "x-amz-target");
  if (target !== undefined) {
    const dot = target.lastIndexOf(".");
    const prefix = target.slice(0, dot);
    const operation = target.slice(dot + 1);
    const service = Object.values(SERVICES).find((s) => s.json?.target === prefix);
    const style = service ? styleOf(service, "json") : ({ kind: "json", contentType: "application/x-amz-json-1.1", queryCompatible: false } as const);
    const shapes = service ? shapesOf(service.name) : new Map<string, ErrorShape>();
    const fail = (e: WireError): Classified => ({ style, shapes, caller, request: e });
    if (!service) return fail(new WireError("UnknownOperationException", `The simulator does not serve ${target}: it speaks ECS, ELBv2, CloudWatch and EC2's default-VPC calls.`, 400));
    const region403 = wrongRegion(scope, region, true);
    if (region403) return fail(region403);
    const known = operationSchema(service.name, operation);
    if (!known) return fail(new WireError("UnknownOperationException", `${operation} is not an operation of ${service.name}.`, 400));
    if (!service.operations[operation]) return fail(notModelled(service.name, operation, "UnknownOperationException"));
    let input: unknown;
    try {
      input = body.trim() === "" ? {} : JSON.parse(body);
    } catch {
      return fail(new WireError("SerializationException", "The request body is not valid JSON.", 400));
    }
    if (typeof input !== "object" || input === null || Array.isArray(input)) return fail(new WireError("SerializationException", "The request body must be a JSON object.", 400));
    return { style, shapes, caller, request: { kind: "call", protocol: "json", call: { service: service.name, operation, input: input as Rec } } };
  }

  const params = new URLSearchParams(body);
  const action = params.get("Action") ?? "";
  const version = params.get("Version");
  const signed = scope?.service;
  if (signed === "ec2" || (signed === undefined && version === EC2_VERSION)) {
    const style: ErrorStyle = { kind: "ec2" };
    const fail = (e: WireError): Classified => ({ style, shapes: new Map(), caller, request: e });
    const region403 = wrongRegion(scope, region, false);
    if (region403) return fail(region403);
    if (!EC2_OPERATIONS.has(action)) return fail(new WireError("InvalidAction", `The simulator answers EC2's DescribeVpcs, DescribeSubnets, DescribeSecurityGroups and DescribeAvailabilityZones only, not ${action || "(no Action)"}.`, 400));
    return { style, shapes: new Map(), caller, request: { kind: "ec2", operation: action, params } };
  }
  const service = Object.values(SERVICES).find((s) => s.query && (signed !== undefined ? s.signingName === signed : s.query.version === version));
  if (!service) {
    const style: ErrorStyle = { kind: "query", xmlns: "" };
    const what = signed !== undefined ? `service ${signed}` : `Version ${version ?? "(none)"}`;
    return { style, shapes: new Map(), caller, request: new WireError("InvalidAction", `The simulator does not serve ${what}: it speaks ECS, ELBv2, CloudWatch and EC2's default-VPC calls.`, 400) };
  }
  const style = styleOf(service, "query");
  const shapes = shapesOf(service.name);
  const fail = (e: WireError): Classified => ({ style, shapes, caller, request: e });
  const region403 = wrongRegion(scope, region, false);
  if (region403) return fail(region403);
  const schema = operationSchema(service.name, action);
  if (!schema) return fail(new WireError("InvalidAction", `The action ${action || "(none)"} is not valid for this web service.`, 400));
  if (!service.operations[action]) return fail(notModelled(service.name, action, "InvalidAction"));
  try {
    const input = fromQuery(inputSchema(schema), new QueryParams(body), "") as Rec | undefined;
    return { style, shapes, caller, request: { kind: "call", protocol: "query", call: { service: service.name, operation: action, input: input ?? {} } } };
  } catch (e) {
    if (e instanceof WireInputError) return fail(new WireError("ValidationError", e.message, 400));
    throw e;
  }
}

function notModelled(service: ServiceName, operation: string, code: string): WireError {
  return new WireError(code, `flotilla sim serve does not model ${service} ${operation}; docs/simulator.md lists the operations it answers.`, 400);
}
