import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ulidFactory } from "../../src/store/ids.ts";
import { generateToken, hashToken, tokenMatches } from "../../src/store/tokens.ts";
import { isTerminal, PHASES } from "../../src/store/types.ts";

describe("store helpers", () => {
  it("ULIDs sort by time, then by creation order within a millisecond", () => {
    const next = ulidFactory();
    const ids = [next(1000), next(1000), next(1000), next(999), next(2000)];
    assert.deepEqual([...ids].sort(), ids, "a clock going backwards still yields increasing ids");
    assert.ok(ids.every((id) => id.length === 26));
  });

  it("tokens hash with SHA-256 and compare in constant time", () => {
    const t = generateToken();
    assert.notEqual(generateToken(), t);
    assert.equal(tokenMatches(t, hashToken(t)), true);
    assert.equal(tokenMatches(`${t}x`, hashToken(t)), false);
    assert.equal(tokenMatches(t, "not-hex"), false);
  });

  it("terminal phases are Succeeded, Failed, RolledBack and Aborted", () => {
    assert.deepEqual(PHASES.filter(isTerminal), ["Succeeded", "Failed", "RolledBack", "Aborted"]);
  });
});
