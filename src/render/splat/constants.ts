/**
 * Numbers that define the splat rasterizer (gsplat's defaults, rasterizers.md §1). The WGSL
 * kernels in shaders/splat/common.wgsl and the TypeScript reference read the same values.
 */
export const TILE_SIZE = 16;
/** Added to the 2D covariance (EWA low-pass / Mip-Splatting filter). */
export const EPS2D = 0.3;
export const DEFAULT_NEAR = 0.01;
export const DEFAULT_FAR = 1e10;
/** Splats fainter than this at a pixel are skipped. */
export const ALPHA_MIN = 1 / 255;
export const ALPHA_MAX = 0.999;
/** Compositing stops before a splat would bring transmittance to or below this. */
export const T_MIN = 1e-4;
/** The projection Jacobian clamps x/z and y/z to 15% beyond the image borders. */
export const FRUSTUM_MARGIN = 0.15;
/** Views per batch: the per-view data lives in one uniform buffer. */
export const MAX_VIEWS = 64;

export const SH_C1 = 0.4886025119029199;
export const SH_C2 = [1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396];
export const SH_C3 = [
  -0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154, -0.4570457994644658, 1.445305721320277,
  -0.5900435899266435,
];
