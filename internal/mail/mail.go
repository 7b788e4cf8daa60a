// Package mail sends Polyphony's emails: an invitation, a password reset link, a notice that a
// password changed, and the notices people can turn off (a comment on their entry, an entry
// shared with or submitted to them, a dialogue session tomorrow, an assessment opening, marks
// released).
//
// An email is made only from the typed fields of a Message: its kind, the recipient, a name to
// greet them by, one link, and a few named values (another person's name, a cohort, a room,
// an assessment, a time, and short lines made of names and the platform's own words, such
// as who is at risk and why). Its subject and its words come from the kind's templates in
// this package. There is no field for free text, so nothing a person wrote in a journal (an
// entry's title or text, a comment) can reach an email: an email says that something
// happened and links to the page where the person reads it after signing in. Keep Message
// and Values that way; TestMessageHoldsOnlyTypedFields fails when a field is added.
//
// Send stores the message in the database and returns; a worker (Run) delivers it by SMTP,
// retrying with backoff while the server is down or answers "try later", and recording a
// permanent refusal with its reason. With no SMTP host configured the worker writes each
// email to the log in full instead, so that a demo works end to end.
package mail

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"polyphony/internal/failure"
)

// Kind names what an email is about. Its value is stable: preferences store it.
type Kind string

// The kinds of email.
const (
	// KindInvitation invites a person added by an administrator to set their password.
	KindInvitation Kind = "invitation"
	// KindPasswordReset carries a link to set a new password, asked for on the sign-in page.
	KindPasswordReset Kind = "password-reset"
	// KindPasswordChanged tells a person their password was changed.
	KindPasswordChanged Kind = "password-changed"
	// KindEntryComment says someone commented on one of the person's journal entries.
	KindEntryComment Kind = "entry-comment"
	// KindEntryShared says someone shared a journal entry with the person.
	KindEntryShared Kind = "entry-shared"
	// KindEntrySubmitted says someone submitted a journal entry to the person.
	KindEntrySubmitted Kind = "entry-submitted"
	// KindSessionTomorrow reminds a person of a dialogue session the next day, with its room's address.
	KindSessionTomorrow Kind = "session-tomorrow"
	// KindAssessmentOpen says an assessment has opened.
	KindAssessmentOpen Kind = "assessment-open"
	// KindMarksReleased says the marks of an assessment have been released.
	KindMarksReleased Kind = "marks-released"
	// KindConsentAsked asks a person to agree to someone using their words from a dialogue
	// room (in work for assessment, or quoted in a journal entry).
	KindConsentAsked Kind = "consent-asked"
	// KindAtRisk tells a facilitator, once a week, that trainees of their cohort are at risk
	// of not meeting the award's rules. It is off until the person turns it on (OptIn).
	KindAtRisk Kind = "at-risk"
)

// KindInfo describes a kind for the Your account page.
type KindInfo struct {
	Kind Kind
	// Label is what the person turns on or off, in the page's words.
	Label string
	// Always is set for the kinds sent whatever the person's preferences: an invitation and
	// a reset link (someone asked for them) and a changed password (a security notice).
	Always bool
}

// need says which fields a kind's templates use and so must be given.
type need struct {
	person, cohort, room, assessment, when, expires bool
}

type kindSpec struct {
	KindInfo
	need need
}

var kinds = []kindSpec{
	{KindInfo{KindInvitation, "An invitation to Polyphony", true}, need{expires: true}},
	{KindInfo{KindPasswordReset, "A link to reset my password", true}, need{expires: true}},
	{KindInfo{KindPasswordChanged, "My password was changed", true}, need{when: true}},
	{KindInfo{KindEntryComment, "Someone commented on my journal entry", false}, need{person: true}},
	{KindInfo{KindEntryShared, "Someone shared a journal entry with me", false}, need{person: true}},
	{KindInfo{KindEntrySubmitted, "Someone submitted a journal entry to me", false}, need{person: true}},
	{KindInfo{KindSessionTomorrow, "A dialogue session tomorrow", false}, need{room: true, when: true}},
	{KindInfo{KindAssessmentOpen, "An assessment opens", false}, need{assessment: true}},
	{KindInfo{KindMarksReleased, "My marks are released", false}, need{assessment: true}},
	{KindInfo{KindConsentAsked, "Someone asks to use my words from a dialogue room", false}, need{person: true}},
	{KindInfo{KindAtRisk, "Each Monday, when trainees of my cohort are at risk (off until I turn it on)", false}, need{cohort: true}},
}

// optIn are the kinds a person gets only once they have turned them on.
var optIn = []Kind{KindAtRisk}

// OptIn reports whether k is off until the person turns it on.
func (k Kind) OptIn() bool { return slices.Contains(optIn, k) }

// Kinds lists every kind, in the order the Your account page shows them.
func Kinds() []KindInfo {
	out := make([]KindInfo, len(kinds))
	for i, k := range kinds {
		out[i] = k.KindInfo
	}
	return out
}

func spec(k Kind) (kindSpec, bool) {
	for _, s := range kinds {
		if s.Kind == k {
			return s, true
		}
	}
	return kindSpec{}, false
}

// Always reports whether k is sent whatever the recipient's preferences.
func (k Kind) Always() bool {
	s, ok := spec(k)
	return ok && s.Always
}

// Valid reports whether k is one of the kinds.
func (k Kind) Valid() bool {
	_, ok := spec(k)
	return ok
}

// Message is one email to one person, made only of typed fields (see the package comment).
type Message struct {
	Kind Kind
	// To is the recipient's email address.
	To string
	// UserID is the recipient's account, whose preferences say whether a kind they can turn
	// off is sent. A kind that is always sent may go to an address with no account yet.
	UserID string
	// Name is the name to greet the recipient by.
	Name string
	// Link is the absolute http(s) address the email is about: the set-password or reset
	// link, the entry, the dialogue room, the assessment.
	Link   string
	Values Values
}

// Values are the named facts a kind's templates may show. Each is a name or a time, never
// anything a person wrote.
type Values struct {
	// Person is another person's name: who commented, shared or submitted.
	Person string
	// Cohort is the name of the cohort the email concerns.
	Cohort string
	// Room is the name of a dialogue room.
	Room string
	// Assessment is the name of an assessment.
	Assessment string
	// When is when the session starts, when the password was changed, or when a reset link
	// was asked for.
	When time.Time
	// Expires is when the link stops working.
	Expires time.Time
	// Lines are short lines the email lists, each a name with a reason made of the
	// platform's own words (who is at risk and why), never anything a person wrote; at most
	// maxLines of them, each no longer than a field.
	Lines Lines
}

// Lines is a list of short lines for an email to list.
type Lines []string

// maxLines bounds the lines of an email: a list to glance at, the page holds the rest.
const maxLines = 50

// maxField bounds every text field: a name, not a paragraph.
const maxField = 200

// check refuses a message its kind's templates cannot be made from, or whose fields are not
// names, an address and a link.
func (m Message) check() error {
	s, ok := spec(m.Kind)
	if !ok {
		return failure.Invalidf("kind", "%q is not a kind of email", m.Kind)
	}
	if a, err := mail.ParseAddress(m.To); err != nil || a.Address != m.To || a.Name != "" {
		return failure.Invalidf("to", "%q is not an email address", m.To)
	}
	if m.UserID == "" && !s.Always {
		return failure.Invalidf("userId", "a %s email needs the recipient's account, whose preferences apply", m.Kind)
	}
	u, err := url.Parse(m.Link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(m.Link) > 2000 {
		return failure.Invalidf("link", "%q is not an absolute http(s) address", m.Link)
	}
	texts := []struct {
		field, v string
		needed   bool
	}{{"name", m.Name, true}, {"person", m.Values.Person, s.need.person}, {"cohort", m.Values.Cohort, s.need.cohort},
		{"room", m.Values.Room, s.need.room}, {"assessment", m.Values.Assessment, s.need.assessment}}
	for _, t := range texts {
		if t.needed && strings.TrimSpace(t.v) == "" {
			return failure.Invalidf(t.field, "a %s email needs it", m.Kind)
		}
		if len(t.v) > maxField {
			return failure.Invalidf(t.field, "is longer than %d bytes", maxField)
		}
		if strings.IndexFunc(t.v, unicode.IsControl) >= 0 {
			return failure.Invalidf(t.field, "holds a control character")
		}
	}
	if len(m.Values.Lines) > maxLines {
		return failure.Invalidf("lines", "holds %d lines, more than %d", len(m.Values.Lines), maxLines)
	}
	for _, l := range m.Values.Lines {
		if strings.TrimSpace(l) == "" || len(l) > maxField || strings.IndexFunc(l, unicode.IsControl) >= 0 {
			return failure.Invalidf("lines", "a line is empty, longer than %d bytes or holds a control character", maxField)
		}
	}
	if s.need.when && m.Values.When.IsZero() {
		return failure.Invalidf("when", "a %s email needs it", m.Kind)
	}
	if s.need.expires && m.Values.Expires.IsZero() {
		return failure.Invalidf("expires", "a %s email needs it", m.Kind)
	}
	return nil
}

func (m Message) String() string { return fmt.Sprintf("%s email to %s", m.Kind, m.To) }
