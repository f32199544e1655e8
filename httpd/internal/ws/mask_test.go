package ws

import (
	"bytes"
	"math/rand"
	"strconv"
	"testing"
)

// TestMaskMatchesByteVersion compares the word-at-a-time mask with the
// byte-at-a-time reference for every key-stream offset and every length up
// to a few 32-byte blocks past the short-payload cut-off, and for slices
// that start at every alignment within a word.
func TestMaskMatchesByteVersion(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	key := [4]byte{0x12, 0x9A, 0xFE, 0x01}
	src := make([]byte, 200)
	rng.Read(src)
	for align := 0; align < 8; align++ {
		for pos := 0; pos < 8; pos++ { // 4..7 check that pos is taken mod 4
			for n := 0; n <= 130; n++ {
				want := bytes.Clone(src[align : align+n])
				maskBytes(want, key, pos&3)
				buf := bytes.Clone(src)
				got := buf[align : align+n]
				next := Mask(got, key, pos)
				if !bytes.Equal(got, want) {
					t.Fatalf("align %d pos %d len %d: masks differ", align, pos, n)
				}
				if next != (pos+n)&3 {
					t.Fatalf("align %d pos %d len %d: next position %d", align, pos, n, next)
				}
				if !bytes.Equal(buf[:align], src[:align]) || !bytes.Equal(buf[align+n:], src[align+n:]) {
					t.Fatalf("align %d pos %d len %d: bytes outside p changed", align, pos, n)
				}
			}
		}
	}
}

func BenchmarkMask(b *testing.B) {
	for _, n := range []int{64, 4096, 1 << 20} {
		p := make([]byte, n)
		key := [4]byte{1, 2, 3, 4}
		b.Run("word/"+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for range b.N {
				Mask(p, key, 1)
			}
		})
		b.Run("byte/"+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for range b.N {
				maskBytes(p, key, 1)
			}
		})
	}
}
