// Workgroup counts for an indirect dispatch over the records counted by march_bwd.
struct Args { per_group: u32, capacity: u32 }
@group(0) @binding(0) var<uniform> args_in: Args;
@group(0) @binding(1) var<storage, read> counter: array<u32>;
@group(0) @binding(2) var<storage, read_write> args: array<u32>;

@compute @workgroup_size(1)
fn indirect_args() {
  let n = min(counter[0], args_in.capacity);
  args[0] = (n + args_in.per_group - 1u) / args_in.per_group;
  args[1] = 1u;
  args[2] = 1u;
}
