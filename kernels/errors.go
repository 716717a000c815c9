package kernels

// Panic messages. Kernels panic, with exactly these strings, when called with
// arguments that violate the contract in the package documentation. They are
// exported so that every implementation panics identically and the
// conformance suite (kernelstest) can check it.
const (
	BadTransA  = "kernels: bad transpose for A"
	BadTransB  = "kernels: bad transpose for B"
	MLT0       = "kernels: m < 0"
	NLT0       = "kernels: n < 0"
	KLT0       = "kernels: k < 0"
	BadLdA     = "kernels: bad leading dimension of A"
	BadLdB     = "kernels: bad leading dimension of B"
	BadLdC     = "kernels: bad leading dimension of C"
	ShortA     = "kernels: insufficient length of a"
	ShortB     = "kernels: insufficient length of b"
	ShortC     = "kernels: insufficient length of c"
	BatchLT0   = "kernels: batch < 0"
	BadStrideA = "kernels: bad stride of A"
	BadStrideB = "kernels: bad stride of B"
	BadStrideC = "kernels: bad stride of C"
)

// Panic messages of Linearer and GELULinearer besides the Sgemm ones
// above and those shared with the fused operations (RowsLT0, ShortBias,
// ShortDB, ShortDY, ShortU).
const (
	BadLdR = "kernels: bad leading dimension of R"
	ShortR = "kernels: insufficient length of r"
	BadLdU = "kernels: bad leading dimension of U"
)
