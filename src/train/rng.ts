/**
 * Seeded pseudo-random numbers with a state that can be saved and restored exactly, so that
 * a resumed run draws the same numbers as an uninterrupted one. The generator is sfc32
 * (four 32-bit words), seeded through splitmix32 so that nearby seeds give unrelated streams.
 */

export type RngState = [number, number, number, number];

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Mixes several integers (seed, step, stream id) into one 32-bit seed. */
export function mixSeed(...parts: number[]): number {
  let h = 0x1234567;
  for (const p of parts) h = splitmix32(h ^ splitmix32(p >>> 0) ^ Math.floor(p / 2 ** 32));
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    this.a = s = splitmix32(s);
    this.b = s = splitmix32(s);
    this.c = s = splitmix32(s);
    this.d = splitmix32(s);
    // Warm up: the first outputs of sfc32 from a fresh state are weakly mixed.
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** A generator for one (seed, step, stream) triple: independent of how many numbers other steps drew. */
  static forStep(seed: number, step: number, stream = 0): Rng {
    return new Rng(mixSeed(seed, step, stream));
  }

  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller; draws two uniforms per call so the state advance is fixed). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** The generator's state; `Rng.fromState(state)` continues the same sequence. */
  state(): RngState {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  setState(state: RngState): void {
    [this.a, this.b, this.c, this.d] = state.map((v) => v | 0) as RngState;
  }

  /** A bound `() => number` for APIs that take a uniform source. */
  asFunction(): () => number {
    return () => this.next();
  }
}
