import { describe, expect, it } from "vitest";
import { revealed, secretValue, withSecrets } from "./secrets";

describe("secrets across the plugin boundary", () => {
  it("unwraps secrets at any depth and names the top-level properties that held one", () => {
    const { plain, secretKeys } = revealed({ key: secretValue("pem"), nested: { list: [secretValue("a"), "b"] }, open: "x" });
    expect(plain).toEqual({ key: "pem", nested: { list: ["a", "b"] }, open: "x" });
    expect([...secretKeys].sort()).toEqual(["key", "nested"]);
  });

  it("marks the named properties secret once, and leaves absent ones absent", () => {
    const out = withSecrets({ token: "t", tokenId: "id", already: secretValue("s") }, ["token", "already", "missing"]);
    expect(out).toEqual({ token: secretValue("t"), tokenId: "id", already: secretValue("s") });
    expect(out).not.toHaveProperty("missing");
  });
});
