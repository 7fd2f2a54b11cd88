/**
 * The mass-delete guard: one function for `apply` and the controller. A pass that deletes more than
 * one service and more than the allowed fraction of the services Flotilla manages is held back.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { massDeleteGuard } from "../../src/controller/delete-guard.ts";

describe("the mass-delete guard", () => {
  const held = (deletes: number, managed: number, maxFraction = 0.5, confirmed = false) => massDeleteGuard({ deletes, managed, maxFraction, confirmed }).held;

  it("holds back a delete of more than the fraction of managed services", () => {
    assert.equal(held(3, 4), true);
    assert.equal(held(2, 2), true);
    assert.equal(held(6, 10), true);
  });
  it("lets through exactly the fraction, or less", () => {
    assert.equal(held(2, 4), false);
    assert.equal(held(5, 10), false);
    assert.equal(held(1, 10), false);
  });
  it("never calls one service a mass delete", () => {
    assert.equal(held(1, 1), false);
    assert.equal(held(1, 0), false);
  });
  it("counts the services to delete as managed even when the record knows fewer", () => {
    assert.equal(held(3, 0), true);
    assert.equal(held(2, 1), true);
  });
  it("lets a confirmed pass through, and says why it held one back", () => {
    assert.equal(held(4, 4, 0.5, true), false);
    const v = massDeleteGuard({ deletes: 3, managed: 4, maxFraction: 0.5, confirmed: false });
    assert.ok(v.held);
    assert.match(v.message, /3 of 4 managed services/);
    assert.match(v.message, /50%/);
  });
  it("a fraction of 1 only holds what is impossible; 0 holds any second delete", () => {
    assert.equal(held(4, 4, 1), false);
    assert.equal(held(2, 100, 0), true);
  });
});
