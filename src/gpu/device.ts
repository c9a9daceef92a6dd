/**
 * Acquires one WebGPU device: Dawn (the `webgpu` package) in Node, `navigator.gpu` in a
 * browser. Asks for subgroups, timestamp queries and f16 where the adapter has them, and for
 * the adapter's largest buffer and workgroup limits.
 */
import { GpuError } from '../errors.ts';

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  backend: string;
  features: string[];
  limits: Record<string, number>;
  isFallbackAdapter: boolean;
}

export interface AcquiredDevice {
  device: GPUDevice;
  adapter: GPUAdapter;
  summary: AdapterSummary;
  /** Releases the device and, in Node, Dawn's instance so the process can exit. */
  release(): void;
}

const OPTIONAL_FEATURES: GPUFeatureName[] = ['subgroups', 'timestamp-query', 'shader-f16'] as GPUFeatureName[];

const LIMITS_TO_RAISE = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxBindGroups',
  'maxUniformBufferBindingSize',
] as const;

export interface AcquireOptions {
  /** Dawn backend ('vulkan', 'opengles', ...); default from RL4D_BACKEND, else Dawn's choice. */
  backend?: string;
  powerPreference?: GPUPowerPreference;
}

// Dawn's instance must outlive every device made from it: if the GC collects the JS
// wrapper while a device is alive, Dawn frees state its worker threads still use and the
// process aborts (seen as futex or pthread_mutex_lock assertions). Keep them reachable.
const liveInstances = new Set<unknown>();

async function nodeGpu(backend: string | undefined): Promise<{ gpu: GPU; compatibility: boolean }> {
  const polling = await import('./event-polling.ts');
  polling.throttleNativePolling(polling.pollingFromEnv());
  const mod: any = await import('webgpu');
  const flags: string[] = [];
  if (backend) flags.push(`backend=${backend}`);
  if (backend === 'opengles' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
  Object.assign(globalThis, mod.globals);
  const gpu = mod.create(flags) as GPU;
  liveInstances.add(gpu);
  return { gpu, compatibility: backend === 'opengles' || backend === 'opengl' };
}

export function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';
}

export async function acquireDevice(options: AcquireOptions = {}): Promise<AcquiredDevice> {
  const backend = options.backend ?? (isNode() ? process.env.RL4D_BACKEND : undefined) ?? undefined;
  let gpu: GPU;
  let compatibility = false;
  if (isNode()) {
    ({ gpu, compatibility } = await nodeGpu(backend));
  } else {
    if (!('gpu' in navigator)) throw new GpuError('This browser has no WebGPU (navigator.gpu is missing).');
    gpu = navigator.gpu;
  }
  const adapter = await gpu.requestAdapter({
    powerPreference: options.powerPreference ?? 'high-performance',
    ...(compatibility ? { featureLevel: 'compatibility' } : {}),
  } as GPURequestAdapterOptions);
  if (!adapter) {
    throw new GpuError(
      'No WebGPU adapter was found. On Debian bookworm install Mesa 25 software Vulkan: ' +
        'add bookworm-backports and run `apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1` ' +
        '(scripts/setup.sh does this), or try RL4D_BACKEND=opengles.',
    );
  }
  if (isNode()) liveInstances.add(adapter);
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS_TO_RAISE) {
    const value = (adapter.limits as any)[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'rl4d' });
  const info: any = (adapter as any).info ?? {};
  const limits: Record<string, number> = {};
  for (const name of LIMITS_TO_RAISE) limits[name] = (device.limits as any)[name];
  const summary: AdapterSummary = {
    vendor: String(info.vendor ?? ''),
    architecture: String(info.architecture ?? ''),
    device: String(info.device ?? ''),
    description: String(info.description ?? ''),
    backend: backend ?? 'default',
    features: [...device.features].map(String).sort(),
    limits,
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? (adapter as any).isFallbackAdapter),
  };
  return {
    device,
    adapter,
    summary,
    release() {
      device.destroy();
      liveInstances.delete(gpu);
      liveInstances.delete(adapter);
    },
  };
}
