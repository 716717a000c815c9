// Package openblas calls OpenBLAS's cblas_sgemm through cgo, as the peer our
// SGEMM is measured against (humanllm bench kernels). It is only compiled in
// with the build tag openblas and cgo (make bench-kernels installs
// libopenblas-dev and builds that way); the default build stays pure Go and
// New reports that the comparison is unavailable.
package openblas
