import * as pulumi from "@pulumi/pulumi";

type Props = Record<string, unknown>;

/** The engine's wire form of a secret value (the SDK's rpc sentinel). */
export function secretValue(value: unknown): Props {
  return { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value };
}

/**
 * Today's providers read plain values. Unwraps the secrets the engine sends (the native provider
 * accepts secrets) and says which top-level properties held one, so that they leave as secrets.
 */
export function revealed(props: Props | undefined): { plain: Props; secretKeys: Set<string> } {
  const plain: Props = {};
  const secretKeys = new Set<string>();
  for (const [key, value] of Object.entries(props ?? {})) {
    if (containsSecret(value)) secretKeys.add(key);
    plain[key] = unwrapDeep(value);
  }
  return { plain, secretKeys };
}

/** Marks the named top-level properties secret; the rest leave as they are. */
export function withSecrets(props: Props | undefined, secretKeys: Iterable<string>): Props {
  const out: Props = { ...(props ?? {}) };
  for (const key of secretKeys) {
    if (out[key] !== undefined && !pulumi.runtime.isRpcSecret(out[key])) out[key] = secretValue(out[key]);
  }
  return out;
}

function containsSecret(value: unknown): boolean {
  if (pulumi.runtime.isRpcSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (value && typeof value === "object") return Object.values(value).some(containsSecret);
  return false;
}

function unwrapDeep(value: unknown): unknown {
  if (pulumi.runtime.isRpcSecret(value)) return unwrapDeep(pulumi.runtime.unwrapRpcSecret(value));
  if (Array.isArray(value)) return value.map(unwrapDeep);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, unwrapDeep(inner)]));
  return value;
}
