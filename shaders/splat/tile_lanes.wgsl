// The layout the per-tile kernels share (rasterize_fwd/bwd, distortion_fwd/bwd): one
// workgroup of 8 lanes per (view, tile) of a batch; lane l owns pixel l of each of the 32
// eight-pixel half-rows of the 16x16 tile, the spans (span p: row p / 2, half p % 2).
// Include after splat/common.wgsl; uses the batch uniform `frame`.

const LANES: u32 = 8u;
const SPANS: u32 = 32u; // TILE * TILE / LANES

struct TilePlace {
  view: u32,
  tx: u32,
  ty: u32,
  origin: vec2<f32>, // the tile's top-left pixel corner
}

// The (view, tile) of workgroup wg (wg < num_views * tiles).
fn tile_place(wg: u32) -> TilePlace {
  let tiles = frame.tiles_x * frame.tiles_y;
  let view = wg / tiles;
  let tile = wg - view * tiles;
  let ty = tile / frame.tiles_x;
  let tx = tile - ty * frame.tiles_x;
  return TilePlace(view, tx, ty, vec2<f32>(f32(tx * TILE), f32(ty * TILE)));
}

// This lane's pixel in span p, and its index in the batch's images (when inside the image).
fn span_pixel(t: TilePlace, p: u32, lane: u32) -> vec2<u32> {
  return vec2<u32>(t.tx * TILE + (p % 2u) * LANES + lane, t.ty * TILE + p / 2u);
}

fn inside_image(px: vec2<u32>) -> bool {
  return px.x < frame.width && px.y < frame.height;
}

fn image_index(t: TilePlace, px: vec2<u32>) -> u32 {
  return ((frame.view_base + t.view) * frame.height + px.y) * frame.width + px.x;
}

// A splat's 2D mean minus the centre of this lane's pixel in span p, and the Gaussian's
// exponent sigma = 0.5 d^T conic d there.
fn span_offset(mean: vec2<f32>, origin: vec2<f32>, p: u32, lane: u32) -> vec2<f32> {
  return mean - (origin + vec2<f32>(f32((p % 2u) * LANES + lane), f32(p / 2u)) + 0.5);
}

fn gaussian_sigma(conic: vec3<f32>, d: vec2<f32>) -> f32 {
  return 0.5 * (conic.x * d.x * d.x + conic.z * d.y * d.y) + conic.y * d.x * d.y;
}

// A splat replayed at a pixel by the backward passes, which return early where it is not
// `used` and then run without branches (nested masks cost more than the arithmetic on
// lavapipe): `used` says whether the forward composited it there (`in_list`: within the
// pixel's end index). G stays finite where it did not (NaN sigma included).
struct ReplayHit {
  d: vec2<f32>,
  G: f32,
  raw_alpha: f32,
  used: bool,
}

fn replay_hit(mean: vec2<f32>, conic: vec3<f32>, opacity: f32, skip: f32, in_list: bool, origin: vec2<f32>, p: u32, lane: u32) -> ReplayHit {
  let d = span_offset(mean, origin, p, lane);
  let sigma = gaussian_sigma(conic, d);
  let reached = in_list && sigma >= 0.0 && sigma <= skip;
  let G = exp(-select(0.0, sigma, reached));
  let raw_alpha = opacity * G;
  return ReplayHit(d, G, raw_alpha, reached && raw_alpha >= ALPHA_MIN);
}

#if SUBGROUPS
// The sum over the 8 lanes of 16 values (a, b, c, d), lane l getting values 2l and 2l + 1:
// three halving exchanges (14 values shuffled per lane) instead of 16 subgroup-wide sums,
// which lavapipe runs lane by lane (a fifth of rasterize_bwd's time). Needs the workgroup
// to be one subgroup.
fn reduce_scatter(lane: u32, a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>) -> vec2<f32> {
  // Lanes 0-3 keep a, b and lanes 4-7 c, d, each adding its partner's (lane ^ 4).
  let hi = (lane & 4u) != 0u;
  let ab = select(a, c, hi) + subgroupShuffleXor(select(c, a, hi), 4u);
  let cd = select(b, d, hi) + subgroupShuffleXor(select(d, b, hi), 4u);
  // Then one vec4 each (lane ^ 2): lane l holds vec4 number l / 2 of the four.
  let mid = (lane & 2u) != 0u;
  let e = select(ab, cd, mid) + subgroupShuffleXor(select(cd, ab, mid), 2u);
  // Then two values each (lane ^ 1).
  let odd = (lane & 1u) != 0u;
  return select(e.xy, e.zw, odd) + subgroupShuffleXor(select(e.zw, e.xy, odd), 1u);
}
#endif
