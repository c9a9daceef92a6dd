/**
 * JSON schema of a scene config (scenes/*.json). Structure and types only; checks that need
 * the registries or the file system (algorithm and reward names and options, model files,
 * the prompt a text reward needs) are made in config.ts.
 */
import { scheduleSchema } from './schedules.ts';

const range = (lo: number, hi: number) => ({
  type: 'array',
  minItems: 2,
  maxItems: 2,
  items: { type: 'number', minimum: lo, maximum: hi },
});

const options = { type: 'object' } as const;
const rgb = { type: 'array', minItems: 3, maxItems: 3, items: { type: 'number', minimum: 0, maximum: 1 } };
const posInt = { type: 'integer', minimum: 1 };
const nonNegInt = { type: 'integer', minimum: 0 };

const rewardComponent = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    module: { type: 'string', minLength: 1 },
    /** A number, or a schedule over the steps (reward-weight schedules). */
    weight: scheduleSchema,
    options,
  },
  oneOf: [{ required: ['name'] }, { required: ['module'] }],
};

const densify = {
  type: 'object',
  required: ['strategy'],
  additionalProperties: false,
  properties: {
    strategy: { enum: ['default', 'mcmc', 'none'] },
    // shared
    start: nonNegInt,
    stop: nonNegInt,
    every: posInt,
    // default strategy (gsplat DefaultStrategy names, camelCase)
    pruneOpacity: { type: 'number', minimum: 0, maximum: 1 },
    growGrad2d: { type: 'number', exclusiveMinimum: 0 },
    growScale3d: { type: 'number', exclusiveMinimum: 0 },
    pruneScale3d: { type: 'number', exclusiveMinimum: 0 },
    resetEvery: nonNegInt,
    absgrad: { type: 'boolean' },
    maxSplats: posInt,
    // mcmc strategy
    capMax: posInt,
    growFactor: { type: 'number', minimum: 1 },
    minOpacity: { type: 'number', minimum: 0, maximum: 1 },
    noiseLr: { type: 'number', minimum: 0 },
    opacityReg: { type: 'number', minimum: 0 },
    scaleReg: { type: 'number', minimum: 0 },
  },
};

export const sceneSchema = {
  type: 'object',
  required: ['prompt', 'representation', 'rewards', 'algorithm', 'schedule', 'cameras'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    prompt: { type: 'string' },
    seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
    representation: {
      type: 'object',
      required: ['kind'],
      additionalProperties: false,
      properties: {
        kind: { enum: ['splats', 'nerf'] },
        init: {
          type: 'object',
          additionalProperties: false,
          properties: {
            kind: { enum: ['sphere'] },
            count: posInt,
            radius: { type: 'number', exclusiveMinimum: 0 },
            shDegree: { type: 'integer', minimum: 0, maximum: 3 },
            opacity: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
            scale: { type: 'number', exclusiveMinimum: 0 },
          },
        },
        options,
        background: rgb,
        /** [near, far] of the depth mapping of the splat depth-distortion image (2DGS). */
        distortionRange: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'number', exclusiveMinimum: 0 } },
        dynamic: {
          type: 'object',
          required: ['deformation'],
          additionalProperties: false,
          properties: {
            deformation: { enum: ['hexplane', 'trajectory'] },
            options,
            times: { type: 'integer', minimum: 2 },
            schedule: { enum: ['static-then-dynamic', 'joint'] },
            staticSteps: nonNegInt,
            /** Loss weights of the deformation regularisers (0 or absent: off). */
            regularisers: {
              type: 'object',
              additionalProperties: false,
              properties: {
                smoothness: { type: 'number', minimum: 0 },
                planeTV: { type: 'number', minimum: 0 },
                rigidity: { type: 'number', minimum: 0 },
                rigidityNeighbours: { type: 'integer', minimum: 1, maximum: 32 },
              },
            },
          },
        },
      },
    },
    rewards: {
      type: 'object',
      required: ['components'],
      additionalProperties: false,
      properties: {
        components: { type: 'array', minItems: 1, items: rewardComponent },
        normalize: {},
        aggregate: {},
      },
    },
    algorithm: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: { name: { type: 'string', minLength: 1 }, options },
    },
    prior: {
      type: 'object',
      required: ['kind'],
      properties: {
        kind: { enum: ['onnx', 'exemplar'] },
        weight: scheduleSchema,
      },
    },
    schedule: {
      type: 'object',
      required: ['steps'],
      additionalProperties: false,
      properties: {
        steps: posInt,
        lr: { type: 'object', additionalProperties: scheduleSchema },
        timestep: {
          type: 'object',
          required: ['min', 'max'],
          additionalProperties: false,
          properties: { min: scheduleSchema, max: scheduleSchema },
        },
      },
    },
    cameras: {
      type: 'object',
      required: ['width', 'height'],
      additionalProperties: false,
      properties: {
        elevation: range(-90, 90),
        azimuth: range(-720, 720),
        radius: range(0, 1e6),
        fov: range(1, 179),
        viewsPerStep: posInt,
        width: { type: 'integer', minimum: 4, maximum: 4096 },
        height: { type: 'integer', minimum: 4, maximum: 4096 },
        target: { type: 'array', minItems: 3, maxItems: 3, items: { type: 'number' } },
        anchors: {
          type: 'array',
          items: {
            type: 'object',
            required: ['elevation', 'azimuth'],
            additionalProperties: false,
            properties: { elevation: { type: 'number', minimum: -90, maximum: 90 }, azimuth: { type: 'number' } },
          },
        },
      },
    },
    densify,
    output: {
      type: 'object',
      additionalProperties: false,
      properties: {
        checkpointEvery: nonNegInt,
        logEvery: posInt,
        turntable: {
          type: 'object',
          additionalProperties: false,
          properties: {
            frames: { type: 'integer', minimum: 0, maximum: 720 },
            size: { type: 'integer', minimum: 8, maximum: 2048 },
            elevation: { type: 'number', minimum: -90, maximum: 90 },
            gif: { type: 'boolean' },
          },
        },
      },
    },
  },
} as const;
