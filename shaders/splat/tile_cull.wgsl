// Exact culling of a splat against a rectangle of pixel centres: the smallest
// sigma = 0.5 d^T conic d (d = mean2d - pixel) over the rectangle. Where it exceeds
// ln(255 opacity), alpha stays below 1/255 on every pixel of the rectangle, so the pair
// adds nothing to the image or to the gradients and can be skipped (StopThePop /
// Speedy-Splat's exact tile test). Kernels including this bind the batch uniform `frame`.
// CULL_MARGIN keeps rounding from dropping a pixel that
// the per-pixel test, which uses a smaller margin, would keep.

const CULL_MARGIN: f32 = 0.01;

// The sigma level beyond which alpha < 1/255, with the culling margin.
fn cull_threshold(opacity: f32) -> f32 {
  return log(255.0 * opacity) + CULL_MARGIN;
}

// Smallest sigma over pixel centres x in [x0, x1], y in [y0, y1] (inclusive, x0 <= x1, y0 <= y1).
// The quadratic is convex, so the minimum is at the mean when it lies inside, else on an edge;
// on an edge at fixed y the minimum over x is the unconstrained one, clamped.
fn rect_min_sigma(mean: vec2<f32>, conic: vec3<f32>, lo: vec2<f32>, hi: vec2<f32>) -> f32 {
  if (all(mean >= lo) && all(mean <= hi)) { return 0.0; }
  let a = conic.x; let b = conic.y; let c = conic.z;
  var best = 3.4e38;
  // Horizontal edges y = lo.y and y = hi.y: d.y fixed, d.x = mean.x - x with x in [lo.x, hi.x].
  for (var e = 0u; e < 2u; e++) {
    let dy = mean.y - select(lo.y, hi.y, e == 1u);
    let dx = clamp(-b * dy / a, mean.x - hi.x, mean.x - lo.x);
    best = min(best, 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy);
  }
  // Vertical edges x = lo.x and x = hi.x.
  for (var e = 0u; e < 2u; e++) {
    let dx = mean.x - select(lo.x, hi.x, e == 1u);
    let dy = clamp(-b * dx / c, mean.y - hi.y, mean.y - lo.y);
    best = min(best, 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy);
  }
  return best;
}

// Smallest sigma over the pixel centres x in [x0, x1] of row y (a one-row rectangle).
fn row_min_sigma(mean: vec2<f32>, conic: vec3<f32>, y: f32, x0: f32, x1: f32) -> f32 {
  let a = conic.x; let b = conic.y; let c = conic.z;
  let dy = mean.y - y;
  let dx = clamp(-b * dy / a, mean.x - x1, mean.x - x0);
  return 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy;
}

// Half-extents (pixels) of the ellipse sigma <= thr: sqrt(2 thr) times the standard
// deviations, read from the conic (the inverse covariance); one pixel wider for rounding.
fn ellipse_extent(conic: vec3<f32>, thr: f32) -> vec2<f32> {
  let det = conic.x * conic.z - conic.y * conic.y;
  let s = 2.0 * max(thr, 0.0) / det;
  return sqrt(vec2<f32>(conic.z * s, conic.x * s)) + 1.0;
}

// Whether the splat's alpha can reach 1/255 on some pixel of tile (tx, ty): the tile's pixel
// centres, clipped to the image, against the threshold. project_fwd counts and bin_emit
// emits with this same test.
fn tile_touched(mean: vec2<f32>, conic: vec3<f32>, thr: f32, tx: u32, ty: u32) -> bool {
  let lo = vec2<f32>(f32(tx * TILE), f32(ty * TILE)) + 0.5;
  let hi = vec2<f32>(f32(min(tx * TILE + TILE, frame.width) - 1u), f32(min(ty * TILE + TILE, frame.height) - 1u)) + 0.5;
  return rect_min_sigma(mean, conic, lo, hi) <= thr;
}

// The spans a splat's alpha can reach in the tile at `origin`, as a bit mask: bit
// 2 row + h for the eight pixel centres x = origin.x + 8 h + 0.5 .. + 7.5 of tile row `row`
// (the rasterizers' half-rows), tested within the rows of the ellipse's extent.
fn reachable_spans(mean: vec2<f32>, conic: vec3<f32>, thr: f32, origin: vec2<f32>) -> u32 {
  let ext = ellipse_extent(conic, thr);
  let row0 = u32(clamp(ceil(mean.y - ext.y - 0.5 - origin.y), 0.0, f32(TILE)));
  let row1 = u32(clamp(floor(mean.y + ext.y - 0.5 - origin.y) + 1.0, 0.0, f32(TILE)));
  var spans = 0u;
  for (var row = row0; row < row1; row++) {
    let yc = origin.y + f32(row) + 0.5;
    for (var h = 0u; h < 2u; h++) {
      let x0 = origin.x + f32(h * 8u) + 0.5;
      if (row_min_sigma(mean, conic, yc, x0, x0 + 7.0) <= thr) { spans |= 1u << (row * 2u + h); }
    }
  }
  return spans;
}
