package exmain

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestPortFlag(t *testing.T) {
	tests := []struct {
		arg     string
		want    uint16
		wantErr bool
	}{
		{arg: "1", want: 1},
		{arg: "8080", want: 8080},
		{arg: "65535", want: 65535},
		{arg: "0", wantErr: true},
		{arg: "65536", wantErr: true},
		{arg: "88577", wantErr: true}, // would wrap to 23041 as a uint16
		{arg: "-1", wantErr: true},
		{arg: "80x", wantErr: true},
		{arg: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.arg, func(t *testing.T) {
			fs := flag.NewFlagSet("example", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var port uint16
			PortVar(fs, &port, "port", 8080, "TCP port")
			err := fs.Parse([]string{"-port", tc.arg})
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "1 to 65535") {
					t.Fatalf("err %v, want one naming the range 1 to 65535", err)
				}
				if port != 8080 {
					t.Fatalf("port changed to %d by a refused value", port)
				}
				return
			}
			if err != nil || port != tc.want {
				t.Fatalf("port %d, err %v; want %d", port, err, tc.want)
			}
		})
	}
}

func TestPortFlagDefault(t *testing.T) {
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	var port uint16
	PortVar(fs, &port, "port", 8443, "TCP port")
	if err := fs.Parse(nil); err != nil || port != 8443 {
		t.Fatalf("port %d, err %v; want the default 8443", port, err)
	}
	if got := fs.Lookup("port").DefValue; got != "8443" {
		t.Fatalf("usage shows default %q, want 8443", got)
	}
}
