/**
 * Every problem code Flotilla can emit, with a one-line meaning. Codes are stable: users grep for
 * them and CI pipelines match on them, so never rename one; add a new one instead.
 * docs/errors.md lists them all (a test keeps the two in step).
 */
export const PROBLEM_CODES = {
  // Reading files
  "FLT-JSON-SYNTAX": "The file is not valid JSON (after template rendering).",
  "FLT-JSON-DUPLICATE-KEY": "An object has the same key twice; JSON parsers silently keep only the last.",
  "FLT-JSON-NOT-OBJECT": "The file's top-level value must be a JSON object.",
  "FLT-FILE-UNREADABLE": "The file could not be read.",
  // Templates and inputs
  "FLT-TEMPLATE-SYNTAX": "The template has a Jinja syntax error.",
  "FLT-TEMPLATE-UNDEFINED": "The template uses a variable that neither the input file nor its refs define.",
  "FLT-TEMPLATE-RENDER": "The template failed while rendering (bad filter argument, wrong type, ...).",
  "FLT-INPUT-INVALID": "The _input.json file does not have the expected structure.",
  "FLT-INPUT-REF-INVALID": "The `ref` section of an input file is malformed.",
  "FLT-INPUT-REF-FILE-MISSING": "A file named in `ref.file` does not exist in the repository.",
  "FLT-INPUT-REF-KEY-MISSING": "A referenced output file lacks an expected key (e.g. a Terraform output without `value`).",
  // Shapes (svcdef/taskdef against the AWS SDK's request shapes; depdef against ours)
  "FLT-CONFIG-UNKNOWN-KEY": "A key that the request shape does not have (AWS would silently drop it).",
  "FLT-CONFIG-TYPE": "A value has the wrong type.",
  "FLT-CONFIG-REQUIRED": "A required member is missing.",
  "FLT-CONFIG-ENUM": "A value is not one of the allowed values.",
  "FLT-CONFIG-RANGE": "A number or string is outside its allowed range or format.",
  // One object
  "FLT-OBJECT-NO-TASKDEF": "Neither a _taskdef.json file nor `taskDefinition` in the svcdef.",
  "FLT-OBJECT-NO-SERVICE-NAME": "The svcdef has no `serviceName`.",
  "FLT-OBJECT-ORPHAN-FILE": "A definition file with no _svcdef.json beside it; it is ignored.",
  "FLT-OBJECT-NOT-FOUND": "No deployment object with that name.",
  "FLT-OBJECT-DUPLICATE-SERVICE": "Two objects manage the same service (region, cluster, name).",
  "FLT-SVC-CONTROLLER-UNSUPPORTED": "The deployment controller type is not one Flotilla deploys (ECS or EXTERNAL).",
  "FLT-SVC-LAUNCH-CONFLICT": "launchType and capacityProviderStrategy cannot both be set.",
  "FLT-SVC-NETWORK": "The network settings do not fit the task definition or launch type.",
  "FLT-SVC-DEPLOYMENT-CONFIG": "deploymentConfiguration percentages are inconsistent.",
  "FLT-SVC-LOAD-BALANCER": "A load balancer entry does not match the task definition's containers or ports.",
  "FLT-SVC-SCHEDULING": "The scheduling strategy does not fit the deployment controller or settings.",
  "FLT-SVC-REGION-MISMATCH": "An ARN names a different region or account than the object deploys to.",
  "FLT-TASKDEF-CONTAINERS": "The container definitions are inconsistent (duplicate names, no essential container, ...).",
  "FLT-TASKDEF-RESOURCES": "Task or container CPU/memory settings are missing or invalid for the launch type.",
  "FLT-BG-TARGET-GROUPS": "Blue/green target group pairs do not match the service's load balancers.",
  "FLT-DEPDEF-SHIFTING": "The traffic shifting settings are inconsistent.",
  "FLT-DEPDEF-NOT-APPLICABLE": "A depdef setting that has no effect for this service's deployment controller.",
  "FLT-DEPDEF-DEPRECATED": "A legacy Gitmoxi depdef key; it is accepted and translated, but should be updated.",
  // Warnings for risky practice
  "FLT-WARN-IMAGE-MUTABLE": "An image is tagged `latest` or has no tag or digest, so a redeploy may run different code.",
  "FLT-WARN-IMAGE-NO-DIGEST": "An image is pinned by tag, not by digest.",
  "FLT-WARN-BG-NO-ALARMS": "A blue/green service without alarms shifts traffic without any health signal.",
  "FLT-WARN-ROLLING-NO-CIRCUIT-BREAKER": "A rolling service without ECS's circuit breaker and with Flotilla's disabled.",
  "FLT-WARN-PLAINTEXT-SECRET": "An environment variable that looks like a secret has a literal value; use `secrets`.",
  // Git and changes
  "FLT-GIT-NOT-A-REPOSITORY": "The directory is not inside a Git repository.",
  "FLT-GIT-UNKNOWN-REVISION": "The revision does not exist in the repository.",
  "FLT-GIT-FAILED": "A git command failed.",
  "FLT-GIT-CREDENTIALS": "A named credential cannot be read (its environment variable is unset, its file is missing).",
  "FLT-GIT-AUTH": "The remote refused the credentials, or none were given where some are needed.",
  "FLT-GIT-FETCH-FAILED": "Cloning or fetching a repository's mirror failed (URL, path or network).",
  "FLT-GIT-BRANCH-MISSING": "The repository's branch does not exist (deleted or renamed).",
  "FLT-GIT-HISTORY-REWRITTEN": "The last processed commit is no longer an ancestor of the branch head (force-push); nothing is processed until a commit is deployed by hand.",
  "FLT-CHANGE-DELETE-UNSAFE": "A delete is held back because an object of the new commit cannot be read and may manage that service.",
  "FLT-CHANGE-DELETE-UNIDENTIFIED": "A removed svcdef could not be read at the old commit, so the service to delete is unknown.",
  // Plans: what apply needs and does not find
  "FLT-PLAN-CLUSTER-MISSING": "The cluster the svcdef names does not exist in the Region; apply cannot create or update the service.",
  "FLT-PLAN-TARGET-GROUP-MISSING": "A target group of the svcdef's load balancers or the depdef's pairs does not exist.",
  "FLT-PLAN-TARGET-GROUP-NO-LISTENER": "A target group exists but no listener or rule forwards to it, so ECS refuses it (no associated load balancer).",
  "FLT-PLAN-ALARM-MISSING": "An alarm the blue/green depdef names does not exist; the deployment would stop before changing anything.",
  "FLT-PLAN-NOT-CHECKED": "A prerequisite could not be checked (AWS refused the describe call); the plan cannot say whether apply will find it.",
  // Repositories and credentials (what the server configuration allows)
  "FLT-SERVER-CONFIG": "The server configuration file (serve --config) cannot be read or does not validate.",
  "FLT-REPO-URL-FORBIDDEN": "The repository URL is of a form or transport the server does not allow (ext::, fd::, a leading '-', http without allowHttp, a local path outside allowedLocalRoots, ...).",
  "FLT-REPO-BRANCH-INVALID": "The repository's branch is not a plain branch name (leading '-' or '+', '..', control characters, ...).",
  "FLT-REPO-PATH-INVALID": "The repository's sub-path is not a relative folder inside the repository.",
  "FLT-CREDENTIAL-UNKNOWN": "The repository names a credential the server configuration does not define.",
  "FLT-CREDENTIAL-TRANSPORT": "The named credential's kind does not fit the repository's transport (a token for an ssh URL, a key for https, any credential for a local path).",
  "FLT-CREDENTIAL-HOST": "The named credential is not bound to the repository URL's host; it is never sent there.",
  "FLT-CREDENTIAL-LEGACY": "A repository stored with an old env:/file:/helper: credentials reference; define a named credential and set it on the repository.",
  // The controller
  "FLT-WEBHOOK-PAYLOAD": "A webhook body is not a well-formed GitHub push event.",
  "FLT-CONTROLLER-BUSY": "Another replica is processing the repository right now.",
  "FLT-CONTROLLER-STOPPING": "The controller is shutting down and takes no new work; retry once it has restarted.",
  // Notifications (src/controller/notifications.ts, egress.ts; docs/controller.md#notifications)
  "FLT-NOTIFY-URL-INVALID": "A notification URL is not an absolute http(s) URL, or carries user info (user:password@).",
  "FLT-NOTIFY-HEADER-INVALID": "A notification header is malformed, sets a header Flotilla sets itself (Host, Content-Length, ...), or writes a variable other than ${NAME}.",
  "FLT-NOTIFY-TARGET-NOT-ALLOWED": "A depdef's notification URL is not on the server's notifications.allowedTargets list (empty by default): nothing is sent.",
  "FLT-NOTIFY-ADDRESS-FORBIDDEN": "A notification target is or resolves to a loopback, link-local (cloud metadata), private or reserved address, or the server's own, that notifications.allowPrivateAddresses does not list: nothing is sent.",
  "FLT-NOTIFY-ENV-NOT-ALLOWED": "A notification header names a variable ${NAME} that notifications.allowedEnv does not list: nothing is sent.",
  "FLT-NOTIFY-ENV-UNSET": "A notification header names an allowed variable that is not set in the server's environment: nothing is sent.",
  "FLT-NOTIFY-TOO-LARGE": "A notification body is larger than the sender's limit: nothing is sent.",
  "FLT-NOTIFY-REDIRECT": "A notification target answered with a redirect; redirects are never followed.",
  "FLT-NOTIFY-FAILED": "A notification could not be delivered after its retries (network error, timeout, or an error status).",
  "FLT-NOTIFY-POLICY-INVALID": "An entry of the server's notification policy (allowedTargets, allowedEnv, allowPrivateAddresses) is malformed.",
  // The store
  "FLT-STORE-CONFLICT": "Someone else changed the record first (optimistic concurrency); re-read and retry.",
  "FLT-STORE-NOT-FOUND": "No such record in the store.",
  "FLT-STORE-ACTIVE-DEPLOYMENT": "The object already has a deployment in progress; one object never has two at once.",
  "FLT-STORE-DEPLOYMENT-FINISHED": "The deployment has finished; it can no longer change or take controls.",
  "FLT-STORE-DUPLICATE": "A record with that name or id already exists.",
  "FLT-STORE-INVALID": "The value cannot be stored as given.",
  // HTTP API
  "FLT-API-UNAUTHORIZED": "The request has no bearer token, or the token is unknown or revoked.",
  "FLT-API-FORBIDDEN": "The token's role does not allow this request (a read-only token asked for a change).",
  "FLT-API-INVALID-REQUEST": "The request's parameters, query or body do not match the route's schema, or the body is not valid JSON.",
  "FLT-API-NOT-FOUND": "No such route, repository, commit or deployment.",
  "FLT-API-UNAVAILABLE": "The server cannot serve this now: the store is unreachable or no controller is attached.",
  "FLT-API-BODY-TOO-LARGE": "The request body is larger than the server accepts (HTTP 413).",
  // Command line
  "FLT-CLI-USAGE": "The command was called with wrong arguments.",
  "FLT-CLI-SERVER-UNREACHABLE": "The CLI cannot connect to the Flotilla server given by --server or FLOTILLA_SERVER.",
  "FLT-SIM-SCENARIO": "A simulator scenario file cannot be read, is not JSON, or does not match the scenario format (docs/simulator.md).",
  "FLT-AWS-CREDENTIALS": "No AWS credentials were found, or AWS refused them (expired, unknown key, bad signature).",
  "FLT-AWS-CALL-FAILED": "An AWS call failed outside a deployment (access denied, unreachable endpoint, ...); nothing was changed by it.",
  "FLT-CLI-SERVER-RESPONSE": "The server's answer is not what the Flotilla API sends (not JSON, or an unknown error).",
  // Simulator
  "FLT-SIM-STATE": "The --state file of `flotilla sim serve` cannot be read, was not written by it, or is damaged.",
  "FLT-INTERNAL": "An unexpected internal error; please report it.",
} as const;

export type ProblemCode = keyof typeof PROBLEM_CODES;
