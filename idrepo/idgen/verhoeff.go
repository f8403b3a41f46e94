package idgen

// The Verhoeff scheme works in the dihedral group D5: verhoeffD is its
// multiplication table, verhoeffP the position-dependent permutation (the
// permutation for position i is the base permutation applied i times, and it
// repeats every 8 positions), verhoeffInv the group inverse. Positions count
// from the rightmost digit of the full number, check digit included, at 0.
var (
	verhoeffD = [10][10]uint8{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
		{5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
		{7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verhoeffP = [8][10]uint8{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0},
		{4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
		{7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
	verhoeffInv = [10]uint8{0, 4, 3, 2, 1, 5, 6, 7, 8, 9}
)

// verhoeffSum folds the digits of s into the group, the rightmost digit
// taking position offset. It reports false if s holds a byte that is not an
// ASCII digit.
func verhoeffSum[S ~string | ~[]byte](s S, offset int) (uint8, bool) {
	var c uint8
	pos := offset
	for i := len(s) - 1; i >= 0; i-- {
		d := s[i] - '0'
		if d > 9 {
			return 0, false
		}
		c = verhoeffD[c][verhoeffP[pos&7][d]]
		pos++
	}
	return c, true
}

// verhoeffDigit is VerhoeffDigit for strings and byte slices.
func verhoeffDigit[S ~string | ~[]byte](payload S) byte {
	c, ok := verhoeffSum(payload, 1)
	if !ok {
		return 0
	}
	return '0' + verhoeffInv[c]
}

// VerhoeffDigit returns the Verhoeff check digit of payload as an ASCII digit
// ('0' to '9'), so that payload+string(VerhoeffDigit(payload)) is a valid
// number. It returns 0 (not '0') if payload holds anything but ASCII digits.
// The check digit of the empty payload is '0'.
func VerhoeffDigit(payload string) byte {
	return verhoeffDigit(payload)
}

// VerhoeffValid reports whether id, whose last digit is the check digit, is
// a valid Verhoeff number. It is false for the empty string and for
// anything holding a byte other than an ASCII digit.
//
// Verhoeff catches every single-digit substitution and every transposition
// of two adjacent digits, the two most common typing mistakes.
func VerhoeffValid(id string) bool {
	if id == "" {
		return false
	}
	c, ok := verhoeffSum(id, 0)
	return ok && c == 0
}
