package llama2c

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/humanllm/humanllm/model"
)

// FuzzDecode: any bytes either decode into weights that validate, or give
// an error; no panic, no allocation driven by an unchecked header.
func FuzzDecode(f *testing.F) {
	hdr := func(v ...int32) []byte {
		var b bytes.Buffer
		_ = binary.Write(&b, binary.LittleEndian, v)
		return b.Bytes()
	}
	f.Add(hdr(8, 16, 1, 2, 2, 10, 4))
	f.Add(hdr(8, 16, 1, 2, 2, -10, 4))
	f.Add(hdr(0, 0, 0, 0, 0, 0, 0))
	f.Add(hdr(1<<30, 1<<30, 1<<30, 1, 1, 1<<30, 1<<30))
	f.Add(hdr(8, 16, 1, 3, 2, 10, 4))
	f.Add(append(hdr(8, 16, 1, 2, 2, 10, 4), make([]byte, 4*1000)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := Decode(bytes.NewReader(b), int64(len(b)), "fuzz", model.RopeHalf)
		if err != nil {
			return
		}
		if verr := w.Validate(); verr != nil {
			t.Fatalf("decoded weights do not validate: %v", verr)
		}
	})
}
