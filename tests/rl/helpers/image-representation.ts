// A tiny differentiable "representation" for the update-rule tests: one colour per pixel and
// one alpha per pixel, shown identically in every view (rgb = colors, alpha = alpha). Its
// backward is exact: d/d(colors) = sum over views of the rgb cotangent.
import type { Gpu } from '../../../src/gpu/gpu.ts';
import type { Camera } from '../../../src/math/camera.ts';
import type { RenderCotangents } from '../../../src/render/types.ts';
import type { ParamBlock, RenderFrame, Representation } from '../../../src/scene/representation.ts';

export class ImageRepresentation implements Representation {
  readonly kind = 'splats' as const;
  readonly colors: ParamBlock;
  readonly alpha: ParamBlock;
  renders = 0;

  constructor(
    private readonly gpu: Gpu,
    readonly width: number,
    readonly height: number,
    initialColors: Float32Array,
    initialAlpha?: Float32Array,
  ) {
    const n = width * height;
    this.colors = { name: 'colors', param: gpu.upload('test:colors', initialColors), grad: gpu.buffer('test:colors.grad', n * 12), count: n * 3, lr: 0.05 };
    this.alpha = {
      name: 'alpha',
      param: gpu.upload('test:alpha', initialAlpha ?? new Float32Array(n).fill(1)),
      grad: gpu.buffer('test:alpha.grad', n * 4),
      count: n,
      lr: 0.05,
    };
  }

  params(): ParamBlock[] {
    return [this.colors, this.alpha];
  }

  async render(cameras: Camera[]): Promise<RenderFrame> {
    this.renders++;
    const V = cameras.length;
    const n = this.width * this.height;
    const rgb = this.gpu.buffer('test:rgb', V * n * 12);
    const alpha = this.gpu.buffer('test:alpha', V * n * 4);
    const depth = this.gpu.buffer('test:depth', V * n * 4);
    const normal = this.gpu.buffer('test:normal', V * n * 12);
    await this.gpu.run('test:render', (enc) => {
      for (let v = 0; v < V; v++) {
        enc.copyBufferToBuffer(this.colors.param, 0, rgb, v * n * 12, n * 12);
        enc.copyBufferToBuffer(this.alpha.param, 0, alpha, v * n * 4, n * 4);
      }
    });
    return {
      views: V,
      width: this.width,
      height: this.height,
      cameras,
      rgb,
      alpha,
      depth,
      normal,
      destroy() {
        rgb.destroy();
        alpha.destroy();
        depth.destroy();
        normal.destroy();
      },
    };
  }

  async backward(frame: RenderFrame, cot: RenderCotangents): Promise<void> {
    const n = this.width * this.height;
    for (const [block, key, ch] of [[this.colors, 'rgb', 3], [this.alpha, 'alpha', 1]] as const) {
      const buf = cot[key];
      if (!buf) continue;
      const g = await this.gpu.readF32(buf, frame.views * n * ch);
      const acc = await this.gpu.readF32(block.grad, n * ch);
      for (let v = 0; v < frame.views; v++) for (let i = 0; i < n * ch; i++) acc[i] += g[v * n * ch + i];
      this.gpu.write(block.grad, acc);
    }
  }

  zeroGrads(encoder: GPUCommandEncoder): void {
    encoder.clearBuffer(this.colors.grad);
    encoder.clearBuffer(this.alpha.grad);
  }

  async readColors(): Promise<Float32Array> {
    return this.gpu.readF32(this.colors.param, this.colors.count);
  }
}
