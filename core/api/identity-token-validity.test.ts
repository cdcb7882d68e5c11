import { describe, expect, it } from "vitest";
import { identityTokenValidity } from "./identity-token-validity";

const jwt = (claims: object) => `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2lnbmF0dXJl`;

describe("identityTokenValidity", () => {
  it("reads iat and exp as dates", () => {
    expect(identityTokenValidity(jwt({ iat: 1_800_000_000, exp: 1_800_000_600, sub: "x" }))).toEqual({
      issuedAt: new Date(1_800_000_000_000),
      expiresAt: new Date(1_800_000_600_000),
    });
  });

  it.each([["not a jwt"], ["a.!!!.c"], [jwt({ exp: "soon" })], [""]])("reads nothing from %j", (text) => {
    expect(identityTokenValidity(text)).toEqual({});
  });
});
