// Package ref is the reference implementation of the kernels interfaces:
// plain Go loops that follow the contract in package kernels literally. It is
// the specification the fast implementations are checked against and is
// never tuned for speed.
package ref
