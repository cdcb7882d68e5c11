import { randomBytes, randomInt } from "node:crypto";
import { BASE58_ALPHABET, ID_PREFIX, TUNNEL_DOMAIN_SUFFIX } from "../../core/contract/tunnels-api";
import { ACCESS_TOKEN_PREFIX, TUNNEL_TOKEN_PREFIX } from "../decided/constants";

const DOMAIN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

function randomFrom(alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export const objectId = (prefix: string) => prefix + randomFrom(BASE58_ALPHABET, 24);
export const requestId = () => ID_PREFIX.request + randomFrom(BASE58_ALPHABET, 24);
export const tunnelTokenId = () => ID_PREFIX.tunnelToken + randomBytes(32).toString("hex");
export const tunnelTokenValue = () => TUNNEL_TOKEN_PREFIX + randomBytes(32).toString("base64url");
export const accessTokenValue = () => ACCESS_TOKEN_PREFIX + randomBytes(48).toString("base64url");
export const tunnelDomain = () => randomFrom(DOMAIN_ALPHABET, 8) + TUNNEL_DOMAIN_SUFFIX;
export const jwtId = () => randomBytes(16).toString("hex");
