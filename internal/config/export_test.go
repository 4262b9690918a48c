package config

import (
	"maps"
	"slices"
)

// ReadParameters parses params and returns the names of the parameters
// Parse read, so that a test can hold them against the meta-data.
func ReadParameters(params, meta map[string]string) ([]string, error) {
	p := newParser(params)
	p.read = map[string]bool{}
	_, err := parse(p, meta)
	return slices.Sorted(maps.Keys(p.read)), err
}
