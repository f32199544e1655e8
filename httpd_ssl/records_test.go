package httpd_ssl

import "testing"

func TestRecordTrackerFollowsBoundaries(t *testing.T) {
	record := func(n int) []byte { // a record header for n body bytes, then the body
		return append([]byte{23, 3, 3, byte(n >> 8), byte(n)}, make([]byte, n)...)
	}
	two := append(record(300), record(20)...)
	tests := []struct {
		name   string
		pieces [][]byte
		mid    bool
	}{
		{"nothing", nil, false},
		{"whole record", [][]byte{record(10)}, false},
		{"two records, one read", [][]byte{two}, false},
		{"header cut", [][]byte{record(10)[:3]}, true},
		{"header whole, body missing", [][]byte{record(10)[:5]}, true},
		{"body cut", [][]byte{record(300)[:200]}, true},
		{"record in three reads", [][]byte{record(300)[:2], record(300)[2:100], record(300)[100:]}, false},
		{"second record cut", [][]byte{two[:310]}, true},
		{"empty record", [][]byte{record(0)}, false},
		{"largest record, byte by byte to the end", splitEach(record(1<<14 + 256)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr recordTracker
			for _, p := range tt.pieces {
				tr.consume(p)
			}
			if got := tr.midRecord(); got != tt.mid {
				t.Errorf("midRecord = %v, want %v", got, tt.mid)
			}
		})
	}
}

func splitEach(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = b[i : i+1]
	}
	return out
}
