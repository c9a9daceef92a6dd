// Exit 0 when Dawn finds a WebGPU adapter, 1 otherwise. Used by scripts/setup.sh before
// deciding whether to install Mesa's software Vulkan.
let gpu;
try {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const backend = process.env.RL4D_BACKEND;
  gpu = create(backend ? [`backend=${backend}`] : []);
  const adapter = await gpu.requestAdapter();
  if (!adapter) process.exit(1);
  const device = await adapter.requestDevice();
  device.destroy();
  process.exit(0);
} catch (e) {
  console.error(`adapter check failed: ${e.message}`);
  process.exit(1);
}
