package ocf

// trueWords are exactly the words ocf_is_true (resource-agents'
// ocf-shellfuncs) takes for true, no more: y is not one of them.
// falseWords are the usual words for false, and empty, as an unset
// parameter is.
var (
	trueWords  = []string{"yes", "true", "1", "YES", "TRUE", "True", "ja", "on", "ON"}
	falseWords = []string{"", "no", "false", "0", "NO", "FALSE", "False", "nein", "off", "OFF", "n", "N"}
)

// IsTrue is ocf_is_true: a shell agent treats exactly these words as true
// and anything else as false.
func IsTrue(v string) bool { return contains(trueWords, v) }

// ParseBool reads an OCF boolean strictly: ok is false for a value that is
// neither a word of ocf_is_true nor a usual word for false, so that an
// agent can refuse a typo rather than read it as false, as ocf_is_true
// would.
func ParseBool(v string) (value, ok bool) {
	switch {
	case IsTrue(v):
		return true, true
	case contains(falseWords, v):
		return false, true
	}
	return false, false
}

// BoolWords returns every value ParseBool accepts, for completion and
// help texts.
func BoolWords() []string {
	return append(append([]string{}, trueWords...), falseWords...)
}

func contains(words []string, v string) bool {
	for _, w := range words {
		if v == w {
			return true
		}
	}
	return false
}
