// The browser bundle's entry: the pure cores, which must pull in no Node built-in.
import { generateCapCode, readerProfile } from "@capkit/emv-cap";
import { HmacKey, totp } from "@capkit/oath";

export { generateCapCode, HmacKey, readerProfile, totp };
