/**
 * What a PIN-pad reader does with a PIN_VERIFY_STRUCTURE (PC/SC part 10 §2.5.2), written from the spec's field
 * definitions, independently of the code that builds the structure: read the fields, put the keyed digits into
 * the APDU template as bmFormatString says (BCD, left-justified, at the given offset), write the length where
 * bmPINLengthFormat says, and return the APDU the reader sends to the card.
 */
export function pinVerifyFromStructure(s: Uint8Array, pin: string): Uint8Array {
  const formatString = s[2]!;
  const blockString = s[3]!;
  const lengthFormat = s[4]!;
  const maxDigits = s[5]!;
  const minDigits = s[6]!;
  const dataLength = s[15]! | (s[16]! << 8) | (s[17]! << 16) | (s[18]! << 24);
  const apdu = s.slice(19, 19 + dataLength);
  if (apdu.length !== dataLength) throw new Error("ulDataLength does not match the template");
  if (pin.length < minDigits || pin.length > maxDigits)
    throw new Error("PIN length outside wPINMaxExtraDigit");
  const unitsAreBytes = (formatString & 0x80) !== 0;
  const position = (formatString >> 3) & 0x0f;
  const rightJustify = (formatString & 0x04) !== 0;
  const type = formatString & 0x03; // 1 = BCD
  if (!unitsAreBytes || rightJustify || type !== 1)
    throw new Error("emulation covers byte units, left-justified BCD only");
  const blockLength = blockString & 0x0f;
  const lengthBits = blockString >> 4;
  const block = apdu.subarray(5, 5 + blockLength);
  for (let i = 0; i < pin.length; i++) {
    const d = pin.charCodeAt(i) - 48;
    const byte = position + (i >> 1);
    block[byte] = i % 2 === 0 ? (d << 4) | (block[byte]! & 0x0f) : (block[byte]! & 0xf0) | d;
  }
  if (lengthBits === 4) {
    const bitPos = lengthFormat & 0x0f; // bits from the start of the block
    const byte = bitPos >> 3;
    const shift = 8 - (bitPos & 7) - 4;
    block[byte] = (block[byte]! & ~(0x0f << shift)) | (pin.length << shift);
  }
  return apdu;
}
