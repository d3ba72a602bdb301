import MedleyModel

extension ModelParameters {
    /// `self += other`, tensor by tensor, as ``add(_:scaledBy:)`` with a scale of 1 (the same
    /// bits), eight elements at a time and large tensors split over `threads`.
    mutating func add(_ other: ModelParameters, threads: Int) {
        for (name, tensor) in other.tensors {
            precondition(tensors[name]?.shape == tensor.shape, "shape mismatch for \(name)")
            tensors[name]!.scalars.withUnsafeMutableBufferPointer { dst in
                tensor.scalars.withUnsafeBufferPointer { src in
                    let count = src.count
                    let buffers = SharedBuffers((dst: dst, src: src))
                    ParallelRanges.forEach(count, threads: ParallelRanges.threads(forElements: count, available: threads)) { range in
                        let (dst, src) = buffers.value
                        guard !range.isEmpty else { return }
                        let (d, s) = (UnsafeMutableRawPointer(dst.baseAddress!), UnsafeRawPointer(src.baseAddress!))
                        var i = range.lowerBound
                        while i + 8 <= range.upperBound {
                            let offset = i * MemoryLayout<Float>.stride
                            let sum = d.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                                + s.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                            d.storeBytes(of: sum, toByteOffset: offset, as: SIMD8<Float>.self)
                            i += 8
                        }
                        while i < range.upperBound {
                            dst[i] += src[i]
                            i += 1
                        }
                    }
                }
            }
        }
    }
}
