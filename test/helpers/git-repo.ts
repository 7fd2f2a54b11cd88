/** Real git repositories in temporary folders, for tests that read commits. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "Flotilla Test",
  GIT_AUTHOR_EMAIL: "test@flotilla.invalid",
  GIT_COMMITTER_NAME: "Flotilla Test",
  GIT_COMMITTER_EMAIL: "test@flotilla.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

export class TestRepo {
  readonly dir: string;
  constructor(prefix = "flotilla-test-") {
    this.dir = mkdtempSync(path.join(tmpdir(), prefix));
    this.git("init", "-q", "-b", "main");
  }
  git(...args: string[]): string {
    return execFileSync("git", args, { cwd: this.dir, env: GIT_ENV, encoding: "utf8" }).trim();
  }
  write(files: Record<string, string | object>): this {
    for (const [file, content] of Object.entries(files)) {
      const full = path.join(this.dir, file);
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, typeof content === "string" ? content : JSON.stringify(content, null, 2) + "\n");
    }
    return this;
  }
  remove(...files: string[]): this {
    for (const f of files) this.git("rm", "-q", f);
    return this;
  }
  move(from: string, to: string): this {
    mkdirSync(path.dirname(path.join(this.dir, to)), { recursive: true });
    this.git("mv", from, to);
    return this;
  }
  /** Commit everything; returns the sha. */
  commit(message = "change"): string {
    this.git("add", "-A");
    this.git("commit", "-q", "--allow-empty", "-m", message);
    return this.git("rev-parse", "HEAD");
  }
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
