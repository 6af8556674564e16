import { diffLines, stableJSON } from "./diff";

describe("diffLines", () => {
  it.each([
    ["identical", ["a", "b"], ["a", "b"], ["same", "same"]],
    ["added line", ["a", "c"], ["a", "b", "c"], ["same", "add", "same"]],
    ["removed line", ["a", "b", "c"], ["a", "c"], ["same", "del", "same"]],
    ["changed line", ["a", "b", "c"], ["a", "x", "c"], ["same", "change", "same"]],
    ["empty to lines", [], ["a"], ["add"]],
  ])("%s", (_name, a, b, kinds) => {
    const rows = diffLines(a, b);
    expect(rows.map((r) => r.kind)).toEqual(kinds);
    expect(rows.filter((r) => r.left !== null).map((r) => r.left)).toEqual(a);
    expect(rows.filter((r) => r.right !== null).map((r) => r.right)).toEqual(b);
  });
});

describe("stableJSON", () => {
  it("sorts keys at every depth", () => {
    expect(stableJSON({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 0 } })).toBe(stableJSON({ a: { c: 0, d: [{ y: 2, z: 1 }] }, b: 1 }));
  });
});
