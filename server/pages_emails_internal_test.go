package server

import (
	"testing"

	"polyphony/internal/mail"
)

// Every kind of email has words on the administrators' page of emails not delivered.
func TestEveryEmailKindHasWords(t *testing.T) {
	for _, k := range mail.Kinds() {
		if emailKinds[k.Kind] == "" {
			t.Errorf("email kind %q has no words in emailKinds", k.Kind)
		}
	}
}
