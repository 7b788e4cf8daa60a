package award

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// A verification code is 100 random bits from crypto/rand, written as 20 characters of
// Crockford's base32 in five groups of four ("7K3M-Q9XW-..."): digits and capital letters
// without I, L, O and U, so a code can be read aloud, typed from paper and told apart from a
// near miss. Typed in, case and dashes (or spaces) do not matter, and O, I and L are read as
// the digits they look like. At 100 bits nobody finds a code by guessing, however many
// look-ups the throttle allowed.
const (
	codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	codeLength   = 20 // characters, 5 bits each
	codeGroup    = 4
)

// NewCode returns a fresh verification code, grouped as it is printed.
func NewCode() (string, error) {
	var raw [13]byte // 104 bits, of which the first 100 are used
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("make a verification code: %w", err)
	}
	var b strings.Builder
	for i := 0; i < codeLength; i++ {
		if i > 0 && i%codeGroup == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(codeAlphabet[fiveBits(raw[:], i*5)])
	}
	return b.String(), nil
}

// fiveBits reads the 5 bits of raw starting at bit offset, most significant first.
func fiveBits(raw []byte, offset int) byte {
	var v byte
	for k := 0; k < 5; k++ {
		bit := offset + k
		v = v<<1 | (raw[bit/8]>>(7-bit%8))&1
	}
	return v
}

// ParseCode reads a code as someone typed it and returns it grouped as it is printed; ok is
// false for anything that cannot be a code (wrong length, a character outside the alphabet).
func ParseCode(typed string) (code string, ok bool) {
	var plain []byte
	for _, r := range strings.ToUpper(typed) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if r > 'Z' || !strings.ContainsRune(codeAlphabet, r) {
			return "", false
		}
		plain = append(plain, byte(r))
		if len(plain) > codeLength {
			return "", false
		}
	}
	if len(plain) != codeLength {
		return "", false
	}
	var b strings.Builder
	for i, c := range plain {
		if i > 0 && i%codeGroup == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

// codeID is the _id of a code's document: a hash of the code as printed, so that a look-up
// is one read by _id of a key of fixed length, whatever was typed.
func codeID(code string) string {
	sum := sha256.Sum256([]byte("award-code:" + code))
	return hex.EncodeToString(sum[:])
}
