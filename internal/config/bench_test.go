package config_test

import (
	"testing"

	"github.com/floatip/floatip/internal/config"
	"github.com/floatip/floatip/metadata"
)

// BenchmarkParse is the validation that every action, monitor included,
// runs first: the parameters as Pacemaker passes them, over the
// meta-data's defaults.
func BenchmarkParse(b *testing.B) {
	params := with(b, "ip", "198.18.0.100", "cidr_netmask", "24")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := config.Parse(params, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadAndParse is all the configuration work of one agent run:
// the embedded meta-data read for its defaults, then Parse. The agent is
// a new process each time, so nothing of it is cached between runs.
func BenchmarkLoadAndParse(b *testing.B) {
	given := map[string]string{"ip": "198.18.0.100", "cidr_netmask": "24"}
	b.ReportAllocs()
	for b.Loop() {
		md := metadata.Declared()
		params := md.Defaults()
		for k, v := range given {
			params[k] = v
		}
		if _, err := config.Parse(params, nil); err != nil {
			b.Fatal(err)
		}
	}
}
