/** Gradient of a mean-squared image loss on the GPU, for fitting splats to images. */
import type { Gpu } from '../../gpu/gpu.ts';

export class ImageL2Loss {
  private constructor(private readonly gpu: Gpu, private readonly pipeline: GPUComputePipeline) {}

  static async create(gpu: Gpu): Promise<ImageL2Loss> {
    return new ImageL2Loss(gpu, await gpu.kernel({ file: 'splat/image_loss.wgsl', entry: 'l2_loss_bwd' }));
  }

  /** Records grad = d mean((pred - target)^2) / d pred over `count` floats. */
  gradient(encoder: GPUCommandEncoder, pred: GPUBuffer, target: GPUBuffer, grad: GPUBuffer, count: number): GPUBuffer {
    const bytes = new ArrayBuffer(8);
    new Uint32Array(bytes, 0, 1)[0] = count;
    new Float32Array(bytes, 4, 1)[0] = 1 / Math.max(count, 1);
    const params = this.gpu.uniform('l2 loss params', new Uint8Array(bytes));
    this.gpu.dispatch(encoder, this.pipeline, [params, pred, target, grad], Math.ceil(count / 256));
    return params;
  }
}
