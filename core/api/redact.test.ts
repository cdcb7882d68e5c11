import { describe, expect, it } from "vitest";
import { REDACTED, SecretRedactor, redactCredentialShapes } from "./redact";

describe("SecretRedactor", () => {
  it("removes every occurrence of a remembered secret", () => {
    const redactor = new SecretRedactor();
    redactor.remember("tunnel-token-value-1");
    expect(redactor.redact("a tunnel-token-value-1 b tunnel-token-value-1")).toBe(`a ${REDACTED} b ${REDACTED}`);
  });

  it("ignores values too short to be secrets", () => {
    const redactor = new SecretRedactor();
    redactor.remember("abc");
    expect(redactor.redact("abc")).toBe("abc");
  });

  it.each([
    ["a bearer header", "Authorization: Bearer abc.def-123", "Authorization: Bearer [redacted]"],
    ["a JWT", "assertion eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl done", "assertion [redacted] done"],
    ["an API key", "key sk-ant-api03-abcdef", "key [redacted]"],
    ["a JSON access_token field", '{"access_token":"opaque-token-value","expires_in":60}', '{"access_token":"[redacted]","expires_in":60}'],
    ["an inspected tunnel_token field (SDK debug logs)", "{ id: 'ttkn_1', tunnel_token: 'mcpt_secret', type: 'tunnel_token' }", "{ id: 'ttkn_1', tunnel_token: [redacted], type: 'tunnel_token' }"],
  ])("removes %s even when unknown", (_, input, output) => {
    expect(redactCredentialShapes(input)).toBe(output);
  });
});
