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
  /** The raw HTTP response, which the SDK attaches when it could not read the answer. */
  $response?: RawResponse;
}

interface RawResponse {
  statusCode?: number;
  headers?: Record<string, string | undefined>;
  body?: unknown;
}

/**
 * Names the SDK gives an error when the answer carried no AWS error code: a body that is not JSON
 * or XML (an HTML error page), an empty body, or an error shape it does not know.
 */
const NOT_AN_AWS_CODE = new Set(["Error", "SyntaxError", "TypeError", "Unknown", "UnknownError"]);

export function toAwsError(e: unknown, service: AwsServiceName, operation: string): AwsError {
  if (e instanceof AwsError) return e;
  if (typeof e !== "object" || e === null) {
    return new AwsError({ name: "UnknownError", message: String(e), service, operation });
  }
  const err = e as SdkLikeError;
  const httpStatus = err.$metadata?.httpStatusCode ?? err.$response?.statusCode;
  const common = { service, operation, httpStatus, requestId: err.$metadata?.requestId, cause: e };
  const unrecognised = unrecognisedAnswer(err, httpStatus, operation);
  if (unrecognised) return new AwsError({ ...common, ...unrecognised });
  // Network failures from the HTTP handler carry a Node error code, not an AWS one.
  const name = err.Code ?? (err.name && err.name !== "Error" ? err.name : undefined) ?? err.code ?? "UnknownError";
  // 501: the endpoint does not implement the operation (LocalStack answers so with a JSON error); asking again cannot help.
  const retryable = httpStatus === 501 ? false : err.$retryable ? true : err.$fault === "server" ? true : undefined;
  return new AwsError({ ...common, name, message: err.message ?? name, retryable });
}

/**
 * An HTTP answer with no AWS error code in it, as AWS-compatible endpoints give when something other
 * than the API answered: an emulator's HTML error page for an operation it does not implement or
 * crashed on, a proxy's 502, an empty body. The SDK reports those as a JSON SyntaxError or
 * "Unknown"; we say what came back instead: the operation, the HTTP status, the content type and
 * the start of the body. 501 is NotImplemented and never retried; other 5xx stay retryable.
 */
function unrecognisedAnswer(err: SdkLikeError, httpStatus: number | undefined, operation: string): { name: string; message: string; retryable?: boolean } | undefined {
  if (httpStatus === undefined || err.Code !== undefined) return undefined;
  if (err.name !== undefined && !NOT_AN_AWS_CODE.has(err.name)) return undefined;
  const type = header(err.$response, "content-type");
  const text = bodyText(err.$response?.body);
  // Without the body (a client built without keepErrorBody), what the SDK said is the next best thing.
  const said = (err.message ?? "").split("\n")[0]!.trim();
  const what = text ? `: ${excerpt(text)}` : said && !NOT_AN_AWS_CODE.has(said) ? `: ${excerpt(said)}` : ", an empty body";
  const hint = httpStatus >= 500 ? ` — AWS-compatible endpoints answer so for an operation they do not implement or fail on (see the endpoint's log for ${operation})` : "";
  const message = `the endpoint answered HTTP ${httpStatus}${type ? ` (${type.split(";")[0]!.trim()})` : ""}, not an AWS answer${what}${hint}`;
  if (httpStatus === 501) return { name: "NotImplemented", message, retryable: false };
  return { name: "InvalidResponse", message, ...(httpStatus < 500 && httpStatus !== 429 ? { retryable: false } : {}) };
}

function header(r: RawResponse | undefined, name: string): string {
  for (const [k, v] of Object.entries(r?.headers ?? {})) if (k.toLowerCase() === name && v) return v;
  return "";
}

/** The body as text when the response kept it (keepErrorBody, or the SDK's own copy for XML). */
function bodyText(body: unknown): string {
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  return "";
}

/** The readable start of an answer: an HTML page's text without tags, whitespace collapsed, at most 120 characters. */
export function excerpt(text: string): string {
  const plain = /<[a-z!?/]/i.test(text)
    ? text
        .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, " ")
        .replace(/<[^>]*>/g, " ")
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, "&")
    : text;
  const flat = plain.replace(/\s+/g, " ").trim();
  return flat.length > 120 ? `${flat.slice(0, 119)}…` : flat;
}

/** The part of an SDK response keepErrorBody looks at. */
interface HttpAnswer {
  statusCode?: number;
  headers?: Record<string, string | undefined>;
  body?: unknown;
}

/**
 * SDK middleware (deserialize step, inside the SDK's deserializer): reads the body of an answer
 * that is an error or not in the protocol's format into memory before the deserializer sees it,
 * so an error the SDK cannot parse still carries the text in `$response.body` for toAwsError.
 * Successful answers in the protocol's own content type pass through untouched.
 */
export function keepErrorBody<A, R extends { response: unknown }>(next: (args: A) => Promise<R>): (args: A) => Promise<R> {
  return async (args) => {
    const result = await next(args);
    const response = result.response as HttpAnswer | undefined;
    const status = response?.statusCode;
    if (!response || status === undefined) return result;
    const type = header(response, "content-type");
    const unusual = status >= 300 || /html|text\/plain/i.test(type);
    const body = response.body;
    if (unusual && body && typeof body === "object" && Symbol.asyncIterator in body) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
      response.body = Buffer.concat(chunks);
    }
    return result;
  };
}
