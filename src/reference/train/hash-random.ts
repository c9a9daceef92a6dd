/** Plain-TypeScript twin of shaders/train/hash_random.wgsl (same u32 arithmetic). */
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> (((state >>> 28) + 4) >>> 0)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

export function hashUniform(seed: number, key: number, channel: number): number {
  const h = pcgHash((seed ^ pcgHash((key ^ pcgHash(channel)) >>> 0)) >>> 0);
  return ((h >>> 8) + 0.5) / 16777216;
}

export function hashNormal(seed: number, key: number, channel: number): number {
  const u1 = hashUniform(seed, key, 2 * channel);
  const u2 = hashUniform(seed, key, 2 * channel + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
