/** The server policy tests run with: local repositories under the system's temporary directory. */
import { tmpdir } from "node:os";
import type { RepositoryPolicy } from "../../src/controller/server-config.ts";

export const TEST_POLICY: RepositoryPolicy = { allowHttp: false, allowedLocalRoots: [tmpdir()], credentials: {} };
