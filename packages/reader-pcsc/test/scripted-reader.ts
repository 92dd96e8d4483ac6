import type { CardConnection } from "@capkit/emv-cap";
import { pcscError } from "../src/errors.js";
import type { ReaderHandle } from "../src/index.js";
import { pinVerifyFromStructure } from "./pinpad-emulation.js";

/**
 * A reader in software for what vpcd cannot do: PC/SC part 10 control codes. It forwards APDUs to a card and,
 * as a PIN-pad reader does, answers GET_FEATURE_REQUEST and VERIFY_PIN_DIRECT by "typing" `keypadPin` into the
 * structure's template.
 */
const unsupported = () =>
  pcscError(new Error("SCardControl error: Feature not supported.(0x8010001f)"), "reader control");

export function scriptedReader(
  card: CardConnection,
  options: { keypadPin?: string; features?: boolean } = {},
) {
  const calls: string[] = [];
  const VERIFY_CODE = 0x42330006;
  const handle: ReaderHandle = {
    name: "scripted pinpad 00 00",
    async connect(share) {
      calls.push(`connect ${share}`);
    },
    async disconnect(d) {
      calls.push(`disconnect ${d}`);
    },
    transmit: (c) => card.transmit(c),
    async control(code, data) {
      calls.push(`control ${code.toString(16)}`);
      if (code === handle.controlCode(3400)) {
        if (options.features === false) throw unsupported();
        return Uint8Array.of(0x06, 0x04, 0x42, 0x33, 0x00, 0x06, 0x12, 0x04, 0x42, 0x33, 0x00, 0x12);
      }
      if (code === VERIFY_CODE) return card.transmit(pinVerifyFromStructure(data, options.keypadPin ?? ""));
      throw unsupported();
    },
    controlCode: (n) => 0x42000000 + n,
    atr: async () => card.atr,
  };
  return { handle, calls };
}
