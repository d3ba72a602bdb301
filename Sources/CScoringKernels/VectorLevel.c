// Which vector instructions this CPU and its operating system support.
#include "CScoringKernels.h"

#if defined(__x86_64__)
#include <cpuid.h>

medley_vector_level medley_best_vector_level(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_OSXSAVE)) return MEDLEY_VECTOR_PORTABLE;
    // The operating system must save the vector registers' upper halves across switches.
    unsigned xcrLow, xcrHigh;
    __asm__("xgetbv" : "=a"(xcrLow), "=d"(xcrHigh) : "c"(0));
    int ymmState = (xcrLow & 0x6) == 0x6, zmmState = (xcrLow & 0xe6) == 0xe6;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return MEDLEY_VECTOR_PORTABLE;
    int avx2 = ymmState && (ebx & bit_AVX2);
    int avx512Vnni = zmmState && avx2 && (ebx & bit_AVX512F) && (ebx & bit_AVX512BW) && (ecx & bit_AVX512VNNI);
    return avx512Vnni ? MEDLEY_VECTOR_AVX512_VNNI : avx2 ? MEDLEY_VECTOR_AVX2 : MEDLEY_VECTOR_PORTABLE;
}

#else

medley_vector_level medley_best_vector_level(void) { return MEDLEY_VECTOR_PORTABLE; }

#endif
