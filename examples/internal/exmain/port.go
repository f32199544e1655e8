package exmain

import (
	"flag"
	"fmt"
	"strconv"
)

// portValue is a flag.Value holding a TCP port to listen on. It refuses
// anything outside 1..65535 instead of wrapping it into a uint16, which
// would turn -port 88577 into a server on port 23041.
type portValue uint16

func (p *portValue) String() string {
	if p == nil {
		return "0"
	}
	return strconv.Itoa(int(*p))
}

func (p *portValue) Set(s string) error {
	n, err := ParsePort(s)
	if err != nil {
		return err
	}
	*p = portValue(n)
	return nil
}

// ParsePort parses a TCP port to listen on: a decimal number from 1 to
// 65535. Port 0 (an ephemeral port) is refused too: an example's user
// would not learn which port it got from the C example's log lines.
func ParsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a TCP port: want a number from 1 to 65535", s)
	}
	return uint16(n), nil
}

// PortVar defines a port flag on fs, stored in *p with value as its
// default. Parsing fails for a value outside 1..65535.
func PortVar(fs *flag.FlagSet, p *uint16, name string, value uint16, usage string) {
	*p = value
	fs.Var((*portValue)(p), name, usage)
}

// Port defines a port flag on the command line (flag.CommandLine), whose
// parsing exits with status 2 and the usage for a value outside 1..65535.
func Port(name string, value uint16, usage string) *uint16 {
	p := new(uint16)
	PortVar(flag.CommandLine, p, name, value, usage)
	return p
}
