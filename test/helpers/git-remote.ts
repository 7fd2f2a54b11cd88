/** A bare repository as a remote, a working clone to push from, and a smart-HTTP server with Basic auth. */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { TestRepo } from "./git-repo.ts";

export class TestRemote {
  /** The bare repository: what a registered repository's URL points at. */
  readonly bare: string;
  readonly work: TestRepo;
  private readonly root: string;

  constructor() {
    this.root = mkdtempSync(path.join(tmpdir(), "flotilla-remote-"));
    this.bare = path.join(this.root, "origin.git");
    execFileSync("git", ["init", "-q", "--bare", "-b", "main", this.bare]);
    this.work = new TestRepo("flotilla-work-");
    this.work.git("remote", "add", "origin", this.bare);
  }

  /** Write files, commit and push; returns the sha. */
  push(files: Record<string, string | object>, message = "change", branch = "main"): string {
    this.work.write(files);
    const sha = this.work.commit(message);
    this.work.git("push", "-q", "origin", `HEAD:refs/heads/${branch}`);
    return sha;
  }

  /** Commit (removing files) and push. */
  pushRemoval(files: string[], message = "remove", branch = "main"): string {
    this.work.remove(...files);
    const sha = this.work.commit(message);
    this.work.git("push", "-q", "origin", `HEAD:refs/heads/${branch}`);
    return sha;
  }

  /** One commit that writes some files and removes others, pushed. */
  pushChange(files: Record<string, string | object>, removed: string[], message = "change", branch = "main"): string {
    this.work.write(files);
    if (removed.length) this.work.remove(...removed);
    const sha = this.work.commit(message);
    this.work.git("push", "-q", "origin", `HEAD:refs/heads/${branch}`);
    return sha;
  }

  /** Reset the working clone to `rev`, commit files on top and force-push: a rewritten history. */
  forcePush(rev: string, files: Record<string, string | object>, message = "rewritten", branch = "main"): string {
    this.work.git("reset", "-q", "--hard", rev);
    this.work.write(files);
    const sha = this.work.commit(message);
    this.work.git("push", "-q", "--force", "origin", `HEAD:refs/heads/${branch}`);
    return sha;
  }

  cleanup(): void {
    this.work.cleanup();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * `git http-backend` behind a Node HTTP server that demands Basic auth with one password (any
 * user): real git over HTTP on 127.0.0.1. Records every Authorization header it sees.
 */
export class GitHttpServer {
  readonly seen: string[] = [];
  private server: Server | undefined;
  private readonly projectRoot: string;
  private readonly password: string;

  constructor(projectRoot: string, password: string) {
    this.projectRoot = projectRoot;
    this.password = password;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const auth = req.headers.authorization ?? "";
      this.seen.push(auth);
      const decoded = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString("utf8") : "";
      if (decoded.slice(decoded.indexOf(":") + 1) !== this.password || !decoded.includes(":")) {
        res.writeHead(401, { "WWW-Authenticate": 'Basic realm="flotilla-test"' });
        res.end();
        return;
      }
      const url = new URL(req.url ?? "/", "http://localhost");
      const cgi = spawn("git", ["http-backend"], {
        env: {
          ...process.env,
          GIT_PROJECT_ROOT: this.projectRoot,
          GIT_HTTP_EXPORT_ALL: "1",
          PATH_INFO: url.pathname,
          QUERY_STRING: url.search.replace(/^\?/, ""),
          REQUEST_METHOD: req.method ?? "GET",
          CONTENT_TYPE: req.headers["content-type"] ?? "",
          REMOTE_USER: decoded.split(":")[0] ?? "",
          REMOTE_ADDR: "127.0.0.1",
          ...(req.headers["content-encoding"] ? { HTTP_CONTENT_ENCODING: req.headers["content-encoding"] } : {}),
          ...(req.headers["git-protocol"] ? { GIT_PROTOCOL: String(req.headers["git-protocol"]) } : {}),
        },
      });
      req.pipe(cgi.stdin);
      let head = Buffer.alloc(0);
      let headersDone = false;
      cgi.stdout.on("data", (chunk: Buffer) => {
        if (headersDone) {
          res.write(chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        let end = head.indexOf("\r\n\r\n");
        let sepLen = 4;
        if (end < 0) {
          end = head.indexOf("\n\n");
          sepLen = 2;
        }
        if (end < 0) return;
        headersDone = true;
        let status = 200;
        const headers: Record<string, string> = {};
        for (const line of head.subarray(0, end).toString("utf8").split(/\r?\n/)) {
          const i = line.indexOf(":");
          if (i < 0) continue;
          const k = line.slice(0, i).trim();
          const v = line.slice(i + 1).trim();
          if (k.toLowerCase() === "status") status = Number(v.split(" ")[0]);
          else headers[k] = v;
        }
        res.writeHead(status, headers);
        res.write(head.subarray(end + sepLen));
      });
      cgi.stdout.on("end", () => res.end());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/**
 * An HTTP listener on 127.0.0.1 that records every request it receives (method, URL, headers) and
 * answers `status` (default 404), or redirects to `redirectTo` (a base URL; the request's path is
 * kept). It stands for a host no credential is bound to: proving that nothing — above all no
 * Authorization header — reaches it; or for a notification target.
 */
export class RecordingServer {
  readonly requests: { method: string; url: string; headers: Record<string, string | string[] | undefined> }[] = [];
  private server: Server | undefined;
  private readonly redirectTo: string | undefined;
  private readonly status: number;

  constructor(options: { redirectTo?: string; status?: number } = {}) {
    this.redirectTo = options.redirectTo;
    this.status = options.status ?? 404;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
      req.resume();
      if (this.redirectTo) res.writeHead(302, { Location: `${this.redirectTo}${req.url ?? "/"}` });
      else res.writeHead(this.status);
      res.end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Everything received, as one string (to search for a secret in any form). */
  get transcript(): string {
    return JSON.stringify(this.requests);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
