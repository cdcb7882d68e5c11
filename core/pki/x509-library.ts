// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

// Node's WebCrypto is the DOM `Crypto` the library is typed against; that type is not in this
// project's lib settings, hence the cast.
x509.cryptoProvider.set(webcrypto as never);

export { x509, webcrypto };
