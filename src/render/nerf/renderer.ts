/**
 * Renders a RadianceField through the shared RenderOutput contract and differentiates it.
 *
 * Forward: one invocation per pixel marches fixed steps inside the field's box, skips cells
 * the occupancy grid marks empty, stops when transmittance falls below 1e-4, and composites
 * colour (plus background), alpha, expected camera z and the world normal (the normalised
 * negative density gradient, alpha-weighted).
 *
 * Backward: the rays are re-marched in chunks; each sample's gradient comes from the final
 * outputs by the suffix trick, so nothing per sample is stored by the forward pass. The
 * evaluated samples of a chunk are written as records (position, direction, gradients of
 * the density and colour pre-activations), which mlp_bwd reduces into the hash-table and MLP
 * gradients. The rgb, alpha and depth cotangents are differentiated exactly.
 *
 * 4D (options.deformation): every sample x of a view at time t is moved to the canonical
 * field, x_c = x + d(x, t), with d the position head of a HexPlane field (backward warp, as
 * D-NeRF). The split is: sample_points writes the world positions of every sample slot of a
 * chunk of one view's rays, the HexPlane kernels evaluate d on them (reused unchanged, one
 * time per dispatch), then the march reads x_c per slot. This is simpler than fusing the
 * HexPlane into the march (its kernels, weight reductions and reference are reused as they
 * are) at the cost of evaluating d at slots past early termination. The backward runs the
 * same split per chunk: mlp_bwd adds each record's d(objective)/d x_c into the slot's offset
 * cotangent, and the HexPlane backward turns those into plane and MLP gradients. The
 * occupancy grid stays in canonical space and is looked up at x_c, so a sample is skipped
 * only where the canonical field, which gives its density at time t, is empty.
 *
 * Normals are central differences of the density pre-activation at the six points
 * p +- eps e_a (nerf/fd_normal.wgsl, threestudio's finite_difference normals), normalised and
 * weight-averaged. Samples
 * whose compositing weight T * alpha is below 1e-4 get no normal (each would move the pixel's
 * normal by less than 1e-4; most samples of a ray are such, in empty space or behind the
 * surface), in the forward and the backward alike. The forward normal is exactly the quantity
 * differentiated: a normal cotangent adds a suffix term to each sample's density gradient, and
 * the normal's own gradient becomes six more first-order density records per sample (no
 * second derivatives). Without `normals` the normal image is all zeros and costs nothing.
 * In 4D the differences are taken around the warped point x_c in canonical space, so the
 * normal is the canonical field's: exact for translations, while a rotation by the
 * deformation does not turn it.
 */
import type { Gpu } from '../../gpu/gpu.ts';
import { BufferUsage } from '../../gpu/gpu.ts';
import { InputError } from '../../errors.ts';
import type { Camera } from '../../math/camera.ts';
import type { RenderCotangents, RenderOptions } from '../types.ts';
import type { RenderFrame } from '../../scene/representation.ts';
import type { FieldLayout } from '../../scene/nerf/layout.ts';
import type { OccupancyGrid } from '../../scene/nerf/occupancy-grid.ts';
import type { HexPlanePointScratch } from '../../scene/deform/hexplane-field.ts';

/** What the renderer needs of a deformation field (HexPlaneField satisfies it). */
export interface NerfDeformation {
  pointScratch(capacity: number): HexPlanePointScratch;
  evaluatePoints(encoder: GPUCommandEncoder, time: number, points: GPUBuffer, count: number, scratch: HexPlanePointScratch): GPUBuffer;
  backwardPoints(encoder: GPUCommandEncoder, uniform: GPUBuffer, points: GPUBuffer, count: number, scratch: HexPlanePointScratch, dOffsets: GPUBuffer): void;
}

export interface NerfRenderOptions extends RenderOptions {
  /** Distance between samples along a ray (world units); default: box diagonal / 128. */
  stepSize?: number;
  /** Skip cells the occupancy grid marks empty (default true). */
  useOccupancy?: boolean;
  /** Offset of the normals' central differences along each axis (world units); default half the finest hash-grid cell. */
  normalEps?: number;
  /** 4D: warp the samples of each camera at its time (camera.time, default 0) by this field. */
  deformation?: NerfDeformation;
}

/** What the renderer needs of a field (RadianceField satisfies it). */
export interface NerfFieldBuffers {
  layout: FieldLayout;
  uniform: GPUBuffer;
  hash: GPUBuffer;
  hashGrad: GPUBuffer;
  mlp: GPUBuffer;
  mlpGrad: GPUBuffer;
  occupancy: OccupancyGrid;
}

/** Resolved marching settings shared by forward, backward and the reference. */
export interface MarchSettings {
  step: number;
  maxSteps: number;
  near: number;
  far: number;
  background: [number, number, number];
  useOccupancy: boolean;
  normals: boolean;
  normalEps: number;
}

const RECORD_FLOATS = 11;
const STATE_FLOATS = 16;
/** Records per sample with a normal cotangent: the sample's and one per difference point (fd_normal.wgsl). */
const NORMAL_RECORDS = 7;
/** Sample slots per 4D chunk (the HexPlane scratch holds offsets, features and hidden values of each). */
const SAMPLE_CAPACITY = 1 << 17; // x NORMAL_RECORDS fits RECORD_CAPACITY
const OFFSET_STRIDE = 14;
/** Sample records per backward chunk (40 MiB); chunks are sized so that they never overflow. */
const RECORD_CAPACITY = 1 << 20;
const MLP_BWD_WORKGROUP = 32;

export function marchSettings(layout: FieldLayout, options: NerfRenderOptions = {}): MarchSettings {
  const ext = [0, 1, 2].map((i) => layout.boxMax[i] - layout.boxMin[i]);
  const diag = Math.hypot(ext[0], ext[1], ext[2]);
  const step = options.stepSize ?? diag / 128;
  if (!(step > 0) || !Number.isFinite(step)) throw new InputError(`nerf render: 'stepSize' must be a positive number, got ${options.stepSize}.`);
  const maxSteps = Math.ceil(diag / step) + 1;
  if (maxSteps > 1 << 16) throw new InputError(`nerf render: 'stepSize' ${step} gives ${maxSteps} steps across the box; use a larger step.`);
  const normalEps = options.normalEps ?? (0.5 * Math.min(...ext)) / layout.resolutions[layout.levels - 1];
  if (!(normalEps > 0) || !Number.isFinite(normalEps)) throw new InputError(`nerf render: 'normalEps' must be a positive number, got ${options.normalEps}.`);
  return {
    step,
    maxSteps,
    normalEps,
    near: options.near ?? 0,
    far: options.far ?? 1e30,
    background: options.background ?? [0, 0, 0],
    useOccupancy: options.useOccupancy ?? true,
    normals: options.normals ?? true,
  };
}

/** Cameras as the kernels read them: viewmat (16, row-major) then fx, fy, cx, cy. */
export function packCameras(cameras: Camera[]): Float32Array {
  const out = new Float32Array(cameras.length * 20);
  cameras.forEach((c, v) => {
    out.set(Array.from(c.viewmat), v * 20);
    out.set([c.fx, c.fy, c.cx, c.cy], v * 20 + 16);
  });
  return out;
}

function renderParamBytes(s: MarchSettings, width: number, height: number, views: number, occRes: number, rayOffset: number, rayCount: number): Uint8Array {
  const buf = new ArrayBuffer(64);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  u[0] = width;
  u[1] = height;
  u[2] = views;
  u[3] = s.maxSteps;
  f[4] = s.step;
  f[5] = s.near;
  f[6] = s.far;
  u[7] = s.useOccupancy ? 1 : 0;
  f.set(s.background, 8);
  u[11] = occRes;
  u[12] = rayOffset;
  u[13] = rayCount;
  u[14] = RECORD_CAPACITY;
  f[15] = s.normalEps;
  return new Uint8Array(buf);
}

export class NerfFrame implements RenderFrame {
  constructor(
    readonly field: NerfFieldBuffers,
    readonly cameras: Camera[],
    readonly settings: MarchSettings,
    readonly width: number,
    readonly height: number,
    readonly rgb: GPUBuffer,
    readonly alpha: GPUBuffer,
    readonly depth: GPUBuffer,
    readonly normal: GPUBuffer,
    private readonly cams: GPUBuffer,
    readonly deformation?: NerfDeformation,
  ) {}

  get views(): number {
    return this.cameras.length;
  }

  get rays(): number {
    return this.cameras.length * this.width * this.height;
  }

  /** The packed camera buffer the kernels read. */
  get cameraBuffer(): GPUBuffer {
    return this.cams;
  }

  /** 4D chunks: ranges of rays of one view each, with the view's time. */
  chunks(maxRays: number): { view: number; time: number; offset: number; count: number }[] {
    const pixels = this.width * this.height;
    const out: { view: number; time: number; offset: number; count: number }[] = [];
    for (let v = 0; v < this.views; v++)
      for (let r = 0; r < pixels; r += maxRays)
        out.push({ view: v, time: this.cameras[v].time ?? 0, offset: v * pixels + r, count: Math.min(maxRays, pixels - r) });
    return out;
  }

  destroy(): void {
    for (const b of [this.rgb, this.alpha, this.depth, this.normal, this.cams]) b.destroy();
  }
}

export class NerfRenderer {
  private records?: GPUBuffer;
  private counter?: GPUBuffer;
  private args?: GPUBuffer;

  private constructor(private readonly gpu: Gpu) {}

  static async create(gpu: Gpu): Promise<NerfRenderer> {
    // Build the backward pipelines up front so that compile errors surface here; the
    // forward variant (with or without normals) is built on first use.
    await Promise.all([
      gpu.kernel({ file: 'nerf/ray_state.wgsl', entry: 'ray_state' }),
      gpu.kernel({ file: 'nerf/march_bwd.wgsl', entry: 'march_bwd' }),
      gpu.kernel({ file: 'nerf/indirect_args.wgsl', entry: 'indirect_args' }),
      gpu.kernel({ file: 'nerf/mlp_bwd.wgsl', entry: 'mlp_bwd' }),
    ]);
    return new NerfRenderer(gpu);
  }

  async forward(field: NerfFieldBuffers, cameras: Camera[], options: NerfRenderOptions = {}): Promise<NerfFrame> {
    const g = this.gpu;
    if (cameras.length === 0) throw new InputError('nerf render: no cameras given.');
    const { width, height } = cameras[0];
    if (cameras.some((c) => c.width !== width || c.height !== height))
      throw new InputError('nerf render: all cameras of one batch must share width and height.');
    const s = marchSettings(field.layout, options);
    const rays = cameras.length * width * height;
    const what = 'the number of views or the image size';
    g.checkSize('nerf rgb', rays * 12, what);
    const frame = new NerfFrame(
      field, cameras, s, width, height,
      g.buffer('nerf rgb', rays * 12), g.buffer('nerf alpha', rays * 4), g.buffer('nerf depth', rays * 4), g.buffer('nerf normal', rays * 12),
      g.upload('nerf cameras', packCameras(cameras)),
      options.deformation,
    );
    const def = options.deformation;
    const k = await g.kernel({ file: 'nerf/march_fwd.wgsl', entry: 'march_fwd', defines: { NORMALS: s.normals, WARP: Boolean(def) } });
    const common = [field.uniform, undefined, field.hash, field.mlp, frame.cameraBuffer, field.occupancy.flags, frame.rgb, frame.alpha, frame.depth, frame.normal];
    if (!def) {
      const rp = g.uniform('nerf render params', renderParamBytes(s, width, height, cameras.length, field.occupancy.resolution, 0, rays));
      await g.run('nerf forward', (enc) => g.dispatch(enc, k, common.map((b) => b ?? rp), Math.ceil(rays / 64)));
      rp.destroy();
      return frame;
    }
    // 4D: per chunk of one view, world sample positions -> deformation offsets -> warped march.
    const kPoints = await g.kernel({ file: 'nerf/sample_points.wgsl', entry: 'sample_points' });
    const chunks = frame.chunks(Math.max(1, Math.floor(SAMPLE_CAPACITY / s.maxSteps)));
    const slots = Math.max(...chunks.map((c) => c.count)) * s.maxSteps;
    const points = g.buffer('nerf sample points', slots * 12);
    const scratch = def.pointScratch(slots);
    const uniforms: GPUBuffer[] = [];
    await g.run('nerf forward 4d', (enc) => {
      for (const c of chunks) {
        const rp = g.uniform('nerf render params', renderParamBytes(s, width, height, cameras.length, field.occupancy.resolution, c.offset, c.count));
        g.dispatch(enc, kPoints, [field.uniform, rp, frame.cameraBuffer, points], Math.ceil(c.count / 64));
        const hp = def.evaluatePoints(enc, c.time, points, c.count * s.maxSteps, scratch);
        g.dispatch(enc, k, [...common.map((b) => b ?? rp), scratch.offsets], Math.ceil(c.count / 64));
        uniforms.push(rp, hp);
      }
    });
    for (const b of [...uniforms, points]) b.destroy();
    scratch.destroy();
    return frame;
  }

  /**
   * Adds d(objective)/d(params) into the field's hash and MLP gradient buffers (and the
   * deformation's in 4D), given cotangents of rgb, alpha, depth and normal.
   */
  async backward(frame: NerfFrame, cot: RenderCotangents): Promise<void> {
    const g = this.gpu;
    const field = frame.field;
    const s = frame.settings;
    const rays = frame.rays;
    if (!cot.rgb && !cot.alpha && !cot.depth && !cot.normal) return;
    for (const [name, buf, bytes] of [['rgb', cot.rgb, rays * 12], ['alpha', cot.alpha, rays * 4], ['depth', cot.depth, rays * 4], ['normal', cot.normal, rays * 12]] as const)
      if (buf && buf.size < bytes) throw new InputError(`nerf backward: the ${name} cotangent has ${buf.size} bytes, the frame needs ${bytes}.`);
    if (cot.normal && !s.normals) throw new InputError('nerf backward: a normal cotangent needs a frame rendered with normals (options.normals true).');
    this.records ??= g.buffer('nerf sample records', RECORD_CAPACITY * RECORD_FLOATS * 4);
    this.counter ??= g.buffer('nerf record counter', 4);
    this.args ??= g.buffer('nerf mlp_bwd args', 12, BufferUsage.STORAGE | BufferUsage.INDIRECT | BufferUsage.COPY_DST | BufferUsage.COPY_SRC);
    const zeros = g.buffer('nerf zero cotangent', rays * 12);
    const state = g.buffer('nerf ray state', rays * STATE_FLOATS * 4);
    const def = frame.deformation;
    const warp = { WARP: Boolean(def) };
    const [kState, kMarch, kArgs, kMlp, kPoints] = await Promise.all([
      g.kernel({ file: 'nerf/ray_state.wgsl', entry: 'ray_state' }),
      g.kernel({ file: 'nerf/march_bwd.wgsl', entry: 'march_bwd', defines: { ...warp, NORMALS: Boolean(cot.normal) } }),
      g.kernel({ file: 'nerf/indirect_args.wgsl', entry: 'indirect_args' }),
      g.kernel({ file: 'nerf/mlp_bwd.wgsl', entry: 'mlp_bwd', defines: warp }),
      g.kernel({ file: 'nerf/sample_points.wgsl', entry: 'sample_points' }),
    ]);
    // Static: chunks of rays sized so that their records fit. 4D: chunks of one view (one time)
    // sized so that their sample slots fit the HexPlane scratch.
    const perSample = cot.normal ? NORMAL_RECORDS : 1;
    const maxRays = Math.max(1, Math.floor((def ? SAMPLE_CAPACITY : RECORD_CAPACITY / perSample) / s.maxSteps));
    const chunks = def ? frame.chunks(maxRays) : Array.from({ length: Math.ceil(rays / maxRays) }, (_, i) => ({ time: 0, offset: i * maxRays, count: Math.min(maxRays, rays - i * maxRays) }));
    const slots = Math.max(...chunks.map((c) => c.count)) * s.maxSteps;
    const points = def ? g.buffer('nerf sample points', slots * 12) : undefined;
    const dOffsets = def ? g.buffer('nerf offset cotangent', slots * OFFSET_STRIDE * 4) : undefined;
    const scratch = def?.pointScratch(slots);
    const uniforms: GPUBuffer[] = [];
    const count = g.uniform('nerf ray count', new Uint32Array([rays]));
    const argsIn = g.uniform('nerf args params', new Uint32Array([MLP_BWD_WORKGROUP, RECORD_CAPACITY]));
    uniforms.push(count, argsIn);
    await g.run('nerf backward', (enc) => {
      g.dispatch(enc, kState, [count, frame.rgb, frame.alpha, frame.depth, frame.normal, cot.rgb ?? zeros, cot.alpha ?? zeros, cot.depth ?? zeros, cot.normal ?? zeros, state], Math.ceil(rays / 64));
      for (const c of chunks) {
        const rp = g.uniform('nerf render params', renderParamBytes(s, frame.width, frame.height, frame.views, field.occupancy.resolution, c.offset, c.count));
        uniforms.push(rp);
        g.clear(enc, this.counter!);
        const march = [field.uniform, rp, field.hash, field.mlp, frame.cameraBuffer, field.occupancy.flags, state, this.records!, this.counter!];
        const mlp = [field.uniform, field.hash, field.mlp, this.records!, this.counter!, field.hashGrad, field.mlpGrad];
        let hp: GPUBuffer | undefined;
        if (def) {
          g.dispatch(enc, kPoints, [field.uniform, rp, frame.cameraBuffer, points!], Math.ceil(c.count / 64));
          hp = def.evaluatePoints(enc, c.time, points!, c.count * s.maxSteps, scratch!);
          uniforms.push(hp);
          g.clear(enc, dOffsets!);
          march.push(scratch!.offsets);
          mlp.push(dOffsets!);
        }
        g.dispatch(enc, kMarch, march, Math.ceil(c.count / 64));
        g.dispatch(enc, kArgs, [argsIn, this.counter!, this.args!], 1);
        g.dispatchIndirect(enc, kMlp, mlp, this.args!);
        if (def) def.backwardPoints(enc, hp!, points!, c.count * s.maxSteps, scratch!, dOffsets!);
      }
    });
    for (const b of [...uniforms, zeros, state, points, dOffsets]) b?.destroy();
    scratch?.destroy();
  }

  destroy(): void {
    this.records?.destroy();
    this.counter?.destroy();
    this.args?.destroy();
  }
}
