import MedleyModel

extension ModelParameters {
    /// `self += other`, tensor by tensor (the shards' gradients summed), eight elements at a
    /// time and large tensors split over `threads`: each element is one addition, so the bits
    /// do not depend on the split.
    mutating func add(_ other: ModelParameters, threads: Int) {
        for (name, tensor) in other.tensors {
            precondition(tensors[name]?.shape == tensor.shape, "shape mismatch for \(name)")
            tensors[name]!.scalars.withUnsafeMutableBufferPointer { dst in
                tensor.scalars.withUnsafeBufferPointer { src in
                    let buffers = SharedBuffers((dst: dst, src: src))
                    ParallelRanges.forEach(src.count, threads: ParallelRanges.threads(forElements: src.count, available: threads)) { range in
                        let (dst, src) = buffers.value
                        ElementwiseAdd.add(UnsafeBufferPointer(rebasing: src[range]), to: UnsafeMutableBufferPointer(rebasing: dst[range]))
                    }
                }
            }
        }
    }
}
