package model

import "fmt"

// PermuteRopeRows reorders the rows of a q or k projection (or bias: cols
// = 1) with heads·headDim rows of cols values, inside each head, from one
// RoPE layout to the other, and returns a new slice.
//
// Meta/llama2.c (interleaved) rotate rows (2i, 2i+1) of a head by
// frequency i; Hugging Face (rotate-half) rotate rows (i, i+headDim/2). So
// row i of a head in half layout is row 2i in interleaved layout, and row
// i+headDim/2 is row 2i+1. This is the permutation of Hugging Face's
// convert_llama_weights_to_hf.py (w.view(heads, headDim/2, 2, cols)
// .transpose(1, 2)). Because the q·k dot product is summed over all rows of
// a head, permuting q and k the same way leaves attention unchanged once
// RoPE pairs the rows accordingly.
func PermuteRopeRows(w []float32, heads, headDim, cols int, from, to RopeLayout) []float32 {
	out := make([]float32, len(w))
	if from == to {
		copy(out, w)
		return out
	}
	if len(w) != heads*headDim*cols || headDim%2 != 0 {
		panic(fmt.Sprintf("PermuteRopeRows: %d values for %d heads x %d x %d", len(w), heads, headDim, cols))
	}
	half := headDim / 2
	for h := range heads {
		base := h * headDim
		for j := range half {
			for p := range 2 {
				hr := base + p*half + j // row in half layout
				ir := base + 2*j + p    // row in interleaved layout
				src, dst := ir, hr
				if from == RopeHalf {
					src, dst = hr, ir
				}
				copy(out[dst*cols:(dst+1)*cols], w[src*cols:(src+1)*cols])
			}
		}
	}
	return out
}

// ConvertRope rewrites the q and k projection weights (and biases) of
// every layer into the layout to and records it in Config.RopeLayout.
func (w *Weights) ConvertRope(to RopeLayout) error {
	c := w.Config
	if c.RopeLayout == to {
		return nil
	}
	hd := c.HeadDim()
	for l := range c.NLayers {
		for _, p := range []struct {
			suffix string
			heads  int
			cols   int
		}{
			{SuffixWq, c.NHeads, c.Dim}, {SuffixWk, c.NKVHeads, c.Dim},
			{SuffixBq, c.NHeads, 1}, {SuffixBk, c.NKVHeads, 1},
		} {
			t := w.Get(LayerName(l, p.suffix))
			if t == nil {
				if p.cols == 1 && !c.QKVBias {
					continue
				}
				return fmt.Errorf("convert rope: missing %s", LayerName(l, p.suffix))
			}
			t.Data = PermuteRopeRows(t.Data, p.heads, hd, p.cols, c.RopeLayout, to)
		}
	}
	w.Config.RopeLayout = to
	return nil
}
