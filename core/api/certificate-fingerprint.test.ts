import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { certificateFingerprint } from "./certificate-fingerprint";

// A throwaway self-signed P-256 CA (openssl req -x509), used only for its bytes.
const CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBfjCCASWgAwIBAgIUPyvZSGc/LUkJxwr3q9wkHBRoq8MwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKZml4dHVyZSBDQTAeFw0yNjExMjUxNjAwNDFaFw0zNjExMjIx
NjAwNDFaMBUxEzARBgNVBAMMCmZpeHR1cmUgQ0EwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATG0/YAtAGk0aOsybwSbpTODlHJlw4I3vjBEMFMLiQDfs1R7OfbX1AC
w78flQsi8zMIpC/TDaj5fslvh3sixZdZo1MwUTAdBgNVHQ4EFgQUauQFwC0cZyPB
w2MqAjhteDGfuvkwHwYDVR0jBBgwFoAUauQFwC0cZyPBw2MqAjhteDGfuvkwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAWfFXBGBaZSv1s1k8THvVW
LjnfPVF19NNFjzBLT2rqMQIgZsN0nddTU+twDXnyxBpvs3oxKpe0AQY8Wd+j8JoG
+mo=
-----END CERTIFICATE-----
`;

describe("certificateFingerprint", () => {
  it("is the lowercase hex SHA-256 of the DER, as the API reports it", () => {
    const expected = new X509Certificate(CA_PEM).fingerprint256.replaceAll(":", "").toLowerCase();
    expect(certificateFingerprint(CA_PEM)).toBe(expected);
  });

  it("ignores text around the block and CRLF line ends", () => {
    expect(certificateFingerprint(`subject=CN=x\r\n${CA_PEM.replaceAll("\n", "\r\n")}`)).toBe(certificateFingerprint(CA_PEM));
  });

  it("is undefined when there is no certificate block", () => {
    expect(certificateFingerprint("not a certificate")).toBeUndefined();
  });
});
