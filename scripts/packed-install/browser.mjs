// The browser bundle's entry: the pure cores, which must pull in no Node built-in.
import { generateCapCode, readerProfile } from "@capkit/emv-cap";
import { HmacKey, totp, WebCryptoHmac } from "@capkit/oath";
import { activationClientStart, verifyReceiptChain } from "@capkit/provision";

export {
  activationClientStart,
  generateCapCode,
  HmacKey,
  readerProfile,
  totp,
  verifyReceiptChain,
  WebCryptoHmac,
};
