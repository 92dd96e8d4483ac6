import { CapCodeModel, testIccMasterKey, atcBitMap, atcConstraint, candidateAtcs } from "@capkit/emv-cap";
import { issuerRecordOf, newSimCardState } from "@capkit/token-sim";
import { MemoryStore, SoftwareKeyProvider, Verifier } from "@capkit/verify";
const keys = new SoftwareKeyProvider(SoftwareKeyProvider.generateMaterial({ allowTestKeys: true }));
const state = newSimCardState("sesame", "1234");
const record = issuerRecordOf({ ...state, atc: 0 });
const codeAt = new CapCodeModel(record, testIccMasterKey(record)).forInputs({ mode: "identify" });
const n = 200_000;
let t = performance.now();
let x = 0;
for (let i = 1; i <= n; i++) x ^= codeAt(i & 0xffff);
console.log("codeAt only", Math.round(n / ((performance.now() - t) / 1000)), "/s");
const bits = atcBitMap(record.ipb, record.iaf);
console.log("ipb", record.ipb, "cands for fresh", [...candidateAtcs(5, 256, atcConstraint(bits, codeAt(6)))]);
for (let round = 0; round < 6; round++) {
  const verifier = new Verifier({ store: new MemoryStore({ auditLimit: Number(process.env.AL ?? 10000) }), keys });
  const id = "cap-x";
  await verifier.enroll({ id, kind: "cap", record, lastAtc: 0, atcWindow: 256 });
  const N = 60_000;
  const codes = Array.from({ length: N }, (_, i) => String(codeAt(i + 1)).padStart(8, "0"));
  t = performance.now();
  for (const c of codes) { const r = await verifier.verify({ id, code: c }); if (r.result !== "accepted") throw new Error(r.result); }
  console.log("verify", Math.round(N / ((performance.now() - t) / 1000)), "/s");
}
