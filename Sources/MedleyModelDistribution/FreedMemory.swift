#if canImport(Glibc)
import Glibc
#endif

/// Gives memory freed with an old model back to the system.
///
/// glibc serves a model-sized allocation from the heap once one of that size has been freed
/// (its mmap threshold adapts upwards), and keeps freed heap pages mapped. A swap briefly
/// holds three models (serving, kept for rollback, and the new one), so without this the
/// resident set would settle one model higher than after the first swap, holding memory the
/// process no longer uses.
enum FreedMemory {
    /// Releases free heap pages with glibc's `malloc_trim`; a no-op with another allocator.
    static func returnToSystem() {
        _ = trim?(0)
    }

    /// `malloc_trim` is declared in <malloc.h>, which Swift's Glibc module does not import, so
    /// it is looked up once by name instead of through a C target of its own.
    private static let trim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()
}
