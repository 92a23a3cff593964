// The WebGPU types that wcodec's public declarations name. Each is the program's global WebGPU type where the
// program declares one (@webgpu/types, or a DOM lib with WebGPU), else `unknown`: the published .d.ts files then
// type-check in any program, with no dependency, and a program with WebGPU types sees the exact types.
// The GPU modules import these under the global names, so their code reads as plain WebGPU.

type Globals = typeof globalThis;

/** The instance type of the global class `K` (a WebGPU interface object) where the program declares it, else `unknown`. */
type InstanceOf<K extends string> = Globals extends { readonly [P in K]: { prototype: infer T } } ? T : unknown;

/** navigator.gpu's type. */
export type GPU = InstanceOf<'GPU'>;
export type GPUAdapter = InstanceOf<'GPUAdapter'>;
export type GPUAdapterInfo = InstanceOf<'GPUAdapterInfo'>;
export type GPUDevice = InstanceOf<'GPUDevice'>;
export type GPUBuffer = InstanceOf<'GPUBuffer'>;
export type GPUCommandEncoder = InstanceOf<'GPUCommandEncoder'>;
export type GPUComputePipeline = InstanceOf<'GPUComputePipeline'>;
export type GPUPipelineLayout = InstanceOf<'GPUPipelineLayout'>;

/** A dictionary, not a class: taken from GPUCommandEncoder.beginComputePass's descriptor. */
export type GPUComputePassTimestampWrites = GPUCommandEncoder extends { beginComputePass(descriptor?: infer D): unknown }
  ? NonNullable<D> extends { timestampWrites?: infer W }
    ? W
    : unknown
  : unknown;
