#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H

// OpenBLAS's CBLAS interface (sgemv, sgemm) plus its thread-count controls, which the
// service uses to keep OpenBLAS's own threads from competing with its workers.
#include <cblas.h>

#endif
