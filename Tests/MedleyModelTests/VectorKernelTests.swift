import Foundation
import Testing
@testable import MedleyModel

@Suite struct VectorKernelTests {
    /// The kernel chosen at run time agrees with the CPU flags the operating system reports.
    @Test func theBestKernelFollowsTheCPUFlags() throws {
        #if arch(x86_64) && os(Linux)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flagsLine = try #require(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        let expected: VectorKernel = flags.isSuperset(of: ["avx2", "avx512f", "avx512bw", "avx512_vnni"]) ? .avx512VNNI
            : flags.contains("avx2") ? .avx2 : .portable
        #expect(VectorKernel.best == expected)
        #else
        #expect(VectorKernel.best == .portable)
        #endif
    }
}
