/// `target[j] += addend[j]` over float buffers, eight at a time: the scalar loop the compiler
/// makes of it (it cannot rule out that the two overlap) took about 7 % of a multitask epoch as
/// the logits' bias add. Each element is one float addition, so the bits are the scalar loop's.
enum ElementwiseAdd {
    static func add(_ addend: UnsafeBufferPointer<Float>, to target: UnsafeMutableBufferPointer<Float>) {
        precondition(addend.count == target.count, "the buffers differ in length")
        guard let base = target.baseAddress, let source = addend.baseAddress else { return }
        let n = target.count
        let to = UnsafeMutableRawPointer(base), from = UnsafeRawPointer(source)
        var j = 0
        while j + 8 <= n {
            let sum = to.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                + from.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            to.storeBytes(of: sum, toByteOffset: j * 4, as: SIMD8<Float>.self)
            j += 8
        }
        while j < n {
            base[j] += source[j]
            j += 1
        }
    }
}
