import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { matchRepositories, normalizeRepositoryUrl, parsePushEvent, RecentDeliveries, signGithubPayload, verifyGithubSignature } from "../../src/controller/github-webhook.ts";
import type { Repository } from "../../src/store/types.ts";

describe("GitHub webhook primitives", () => {
  it("verifies X-Hub-Signature-256 in constant time; a bad, malformed or missing signature is false", () => {
    const body = '{"ref":"refs/heads/main"}';
    const good = signGithubPayload("s3cret", body);
    assert.equal(verifyGithubSignature("s3cret", body, good), true);
    assert.equal(verifyGithubSignature("s3cret", Buffer.from(body), good), true);
    assert.equal(verifyGithubSignature("s3cret", body + " ", good), false);
    assert.equal(verifyGithubSignature("other", body, good), false);
    assert.equal(verifyGithubSignature("s3cret", body, good.replace("sha256=", "sha1=")), false);
    assert.equal(verifyGithubSignature("s3cret", body, "sha256=abc"), false);
    assert.equal(verifyGithubSignature("s3cret", body, undefined), false);
    assert.equal(verifyGithubSignature("", body, signGithubPayload("", body)), false, "no secret, no trust");
  });

  it("parses a push: branch, head sha, deletion, repository URLs", () => {
    const sha = "a".repeat(40);
    const e = parsePushEvent(JSON.stringify({ ref: "refs/heads/release/1", after: sha, before: "b".repeat(40), forced: true, repository: { full_name: "o/r", clone_url: "https://github.com/o/r.git", ssh_url: "git@github.com:o/r.git" } }));
    assert.equal(e.branch, "release/1");
    assert.equal(e.after, sha);
    assert.equal(e.forced, true);
    assert.equal(e.deleted, false);
    assert.deepEqual(e.urls, ["https://github.com/o/r.git", "git@github.com:o/r.git"]);
    assert.equal(parsePushEvent({ ref: "refs/tags/v1", after: sha, repository: {} }).branch, undefined);
    assert.equal(parsePushEvent({ ref: "refs/heads/x", after: "0".repeat(40), repository: {} }).deleted, true);
    for (const bad of ["not json", "[]", JSON.stringify({ ref: "refs/heads/x", after: "nope", repository: {} }), JSON.stringify({ after: sha, repository: {} })]) {
      assert.throws(() => parsePushEvent(bad), (err: { code?: string }) => err.code === "FLT-WEBHOOK-PAYLOAD");
    }
  });

  it("matches a push to registered repositories by any URL form and the branch", () => {
    for (const u of ["https://github.com/Acme/Apps.git", "git@github.com:acme/apps.git", "ssh://git@github.com/acme/apps", "https://github.com/acme/apps/"]) {
      assert.equal(normalizeRepositoryUrl(u), "github.com/acme/apps", u);
    }
    const repo = (name: string, url: string, branch = "main") => ({ name, url, branch }) as Repository;
    const event = parsePushEvent({ ref: "refs/heads/main", after: "a".repeat(40), repository: { clone_url: "https://github.com/acme/apps.git", ssh_url: "git@github.com:acme/apps.git" } });
    const matched = matchRepositories(event, [repo("a", "git@github.com:acme/apps.git"), repo("b", "https://github.com/acme/apps", "prod"), repo("c", "https://github.com/acme/other.git")]);
    assert.deepEqual(matched.map((r) => r.name), ["a"]);
  });

  it("remembers a bounded number of delivery ids", () => {
    const d = new RecentDeliveries(3);
    assert.equal(d.add("1"), true);
    assert.equal(d.add("1"), false);
    for (const id of ["2", "3", "4"]) d.add(id);
    assert.equal(d.size, 3);
    assert.equal(d.add("1"), true, "the oldest was forgotten");
  });
});
