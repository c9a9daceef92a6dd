/**
 * A G^3 grid over the field's box that marks cells where the density may be non-negligible,
 * so that ray marching skips the rest. Each update evaluates the density at every cell's
 * corners and one jittered point and keeps max(decay * old, new), thresholded. Until the
 * first update every cell is occupied.
 */
import type { Gpu } from '../../gpu/gpu.ts';
import type { FieldLayout } from './layout.ts';

export interface OccupancyUpdateOptions {
  /** Multiplier of the running value before taking the max with the new density (default 0.95). */
  decay?: number;
  /** Density above which a cell is occupied (default 0.01). */
  threshold?: number;
  /** Seed of this update's jitter. */
  seed?: number;
}

export class OccupancyGrid {
  readonly resolution: number;
  /** Running density per cell (f32). */
  readonly density: GPUBuffer;
  /** 1 where occupied, 0 where skipped (u32 per cell). */
  readonly flags: GPUBuffer;
  private updates = 0;

  constructor(private readonly gpu: Gpu, resolution: number) {
    this.resolution = resolution;
    const cells = resolution ** 3;
    this.density = gpu.buffer('nerf occupancy density', cells * 4);
    this.flags = gpu.upload('nerf occupancy flags', new Uint32Array(cells).fill(1));
  }

  get cellCount(): number {
    return this.resolution ** 3;
  }

  /** Records an update of the grid from the field's current parameters. */
  async update(field: { layout: FieldLayout; uniform: GPUBuffer; hash: GPUBuffer; mlp: GPUBuffer }, opts: OccupancyUpdateOptions = {}): Promise<void> {
    const g = this.gpu;
    const k = await g.kernel({ file: 'nerf/occupancy.wgsl', entry: 'occupancy_update' });
    const bytes = new ArrayBuffer(16);
    const u = new Uint32Array(bytes);
    const f = new Float32Array(bytes);
    u[0] = this.resolution;
    u[1] = (opts.seed ?? this.updates) >>> 0;
    f[2] = opts.decay ?? 0.95;
    f[3] = opts.threshold ?? 0.01;
    this.updates++;
    const params = g.uniform('nerf occupancy params', new Uint8Array(bytes));
    await g.run('nerf occupancy update', (enc) =>
      g.dispatch(enc, k, [field.uniform, params, field.hash, field.mlp, this.density, this.flags], Math.ceil(this.cellCount / 64)),
    );
    params.destroy();
  }

  /** Marks every cell occupied (or every cell empty, for tests) and forgets the running density. */
  fill(occupied: boolean): void {
    this.gpu.write(this.flags, new Uint32Array(this.cellCount).fill(occupied ? 1 : 0));
    this.gpu.write(this.density, new Float32Array(this.cellCount));
  }

  async readFlags(): Promise<Uint32Array> {
    return this.gpu.readU32(this.flags, this.cellCount);
  }

  async occupiedFraction(): Promise<number> {
    const flags = await this.readFlags();
    let n = 0;
    for (const v of flags) n += v ? 1 : 0;
    return n / flags.length;
  }

  destroy(): void {
    this.density.destroy();
    this.flags.destroy();
  }
}
