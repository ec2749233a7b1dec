/**
 * The receive scratch both drivers read into: one pooled buffer (JS is single-threaded and a synchronous
 * recv is done with it before anything else runs), grown up to 1 MiB, so that a 32-byte read costs 32 bytes
 * copied out, not a fresh 64 KiB allocation, while a read that fills most of it takes the buffer itself.
 */
const SCRATCH_MAX = 1024 * 1024

export interface ReceiveScratch {
  /** The buffer to receive up to `maxBytes` into: the pooled one, or a fresh one above SCRATCH_MAX. */
  readonly bufferFor: (maxBytes: number) => Buffer
  /**
   * The `n` bytes received into `buffer` as the caller's own: copied out of the pooled buffer; a large
   * read into a fresh buffer is handed over as it is.
   */
  readonly take: (buffer: Buffer, n: number, maxBytes: number) => Uint8Array
}

export const makeReceiveScratch = (): ReceiveScratch => {
  // allocUnsafeSlow: outside the pool, its memory is never moved or shared
  let scratch = Buffer.allocUnsafeSlow(64 * 1024)
  return {
    bufferFor: (maxBytes) => {
      if (maxBytes > scratch.length && maxBytes <= SCRATCH_MAX) scratch = Buffer.allocUnsafeSlow(maxBytes)
      return maxBytes <= scratch.length ? scratch : Buffer.allocUnsafe(maxBytes)
    },
    // plain Uint8Arrays (as the overlapped receive gives), not Buffers: a Buffer's slice would be a Buffer
    take: (buffer, n, maxBytes) => {
      const received = new Uint8Array(buffer.buffer, buffer.byteOffset, n)
      if (buffer !== scratch) return n * 2 >= maxBytes ? received : received.slice()
      if (n * 2 < scratch.length) return received.slice()
      // At least half of the pooled buffer filled (bulk reads): hand the buffer itself over and take a fresh
      // one, as libuv's reads do; a fresh buffer costs less than copying out more than half of one.
      scratch = Buffer.allocUnsafeSlow(scratch.length)
      return received
    }
  }
}
