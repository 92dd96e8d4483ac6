/**
 * What the `otp` commands need from @capkit/oath to read a key, compute or check a code and build a URI: all
 * but PSKC, which `otp import` and `otp export` load when they run. The bundle (scripts/build.mjs) resolves
 * this module's "@capkit/oath" to the package's entry without PSKC, so `capkit otp generate` does not read and
 * compile PSKC's XML reader (saxes), AES and PBKDF2 at every start (docs/benchmarks.md, CLI start-up).
 */
export {
  base32Decode,
  base32Encode,
  buildOtpAuthUri,
  HmacKey,
  HotpGenerator,
  matchHotp,
  matchTotp,
  Ocra,
  parseAlgorithm,
  parseOtpAuthUri,
  tokenFromOtpAuth,
  totpStep,
} from "@capkit/oath";
