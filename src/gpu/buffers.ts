// Buffer helpers: every GPU object gets a label so a validation error names its culprit.

export function createStorageBuffer(
  device: GPUDevice,
  label: string,
  byteLength: number,
  extraUsage: GPUBufferUsageFlags = 0,
): GPUBuffer {
  // Sizes must be multiples of 4; round up so callers can pass element counts × bytes freely.
  const size = Math.max(4, Math.ceil(byteLength / 4) * 4);
  return device.createBuffer({
    label,
    size,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
  });
}

export function createUniformBuffer(device: GPUDevice, label: string, byteLength: number): GPUBuffer {
  const size = Math.max(16, Math.ceil(byteLength / 16) * 16);
  return device.createBuffer({ label, size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
}

export function createBufferWithData(
  device: GPUDevice,
  label: string,
  data: ArrayBufferView,
  extraUsage: GPUBufferUsageFlags = 0,
): GPUBuffer {
  const buf = createStorageBuffer(device, label, data.byteLength, extraUsage);
  device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
  return buf;
}

/**
 * Copy `byteLength` bytes of `src` (from `offset`) to a fresh staging buffer and map it.
 * Meant for rare readbacks (tests, metrics every N steps); the trainer keeps its own staging ring.
 */
export async function readBuffer(
  device: GPUDevice,
  src: GPUBuffer,
  offset = 0,
  byteLength = src.size - offset,
): Promise<ArrayBuffer> {
  const staging = device.createBuffer({
    label: `readback(${src.label})`,
    size: byteLength,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = device.createCommandEncoder({ label: `readback(${src.label})` });
  enc.copyBufferToBuffer(src, offset, staging, 0, byteLength);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const copy = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return copy;
}

export async function readFloat32(device: GPUDevice, src: GPUBuffer, offset = 0, count?: number) {
  const bytes = count === undefined ? src.size - offset : count * 4;
  return new Float32Array(await readBuffer(device, src, offset, bytes));
}
