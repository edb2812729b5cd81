// Randomness, injected. Everything random in the engine, the workloads and the simulator draws from a
// Random, so one seed reproduces a whole run. The generator is sfc32 (small, fast, good quality).

export interface Random {
  /** The seed this generator started from (printed on failures so a run can be replayed). */
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** true with probability p. */
  chance(p: number): boolean;
  /** A new independent generator derived from this one (for a sub-component). */
  fork(): Random;
}

export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    // splitmix32 to spread the seed over the four words.
    let s = seed >>> 0;
    const mix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  private nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  next(): number {
    return this.nextU32() / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  fork(): Random {
    return new SeededRandom(this.nextU32());
  }
}

/** A seed from the operating system, for runs that are not meant to be replayed. */
export function freshSeed(): number {
  return (Math.random() * 4294967296) >>> 0;
}
