/**
 * Plain-TypeScript references for the sort kernels: exclusive prefix sum (with the total
 * appended) and a stable sort of (key, value) pairs on the low `bits` bits of the key.
 */

export function exclusiveScanReference(input: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(input.length + 1);
  let run = 0;
  for (let i = 0; i < input.length; i++) {
    out[i] = run;
    run = (run + input[i]) >>> 0;
  }
  out[input.length] = run;
  return out;
}

/** Stable: pairs with equal masked keys keep their input order. */
export function sortPairsReference(keys: Uint32Array, values: Uint32Array, bits: number): { keys: Uint32Array; values: Uint32Array } {
  const mask = bits >= 32 ? 0xffffffff : (1 << bits) - 1;
  const order = Array.from({ length: keys.length }, (_, i) => i);
  // Array.prototype.sort is stable (ES2019); the index tie-break makes it explicit.
  order.sort((a, b) => ((keys[a] & mask) >>> 0) - ((keys[b] & mask) >>> 0) || a - b);
  return {
    keys: Uint32Array.from(order, (i) => keys[i]),
    values: Uint32Array.from(order, (i) => values[i]),
  };
}
