package mail

import (
	"reflect"
	"strings"
	"testing"
	"text/template/parse"
	"time"
)

var sessionAt = time.Date(2026, 12, 4, 14, 30, 0, 0, time.UTC)

// sample is a message of kind k with every field its templates use.
func sample(k Kind, to, userID string) Message {
	return Message{Kind: k, To: to, UserID: userID, Name: "Ann Smith", Link: "https://polyphony.example/go/" + string(k) + "?t=abc",
		Values: Values{Person: "Bea Jones", Cohort: "North 2026", Room: "Oak room", Assessment: "Module 1 MCQ",
			When: sessionAt, Expires: sessionAt.Add(30 * time.Minute)}}
}

// The type an email is made from has only these fields, each a name, an address, a link, a
// kind or a time: no field can carry journal content. Adding one fails here on purpose;
// think again before changing the list.
func TestMessageHoldsOnlyTypedFields(t *testing.T) {
	want := map[reflect.Type][]string{
		reflect.TypeFor[Message](): {"Kind Kind", "To string", "UserID string", "Name string", "Link string", "Values Values"},
		reflect.TypeFor[Values]():  {"Person string", "Cohort string", "Room string", "Assessment string", "When Time", "Expires Time", "Lines Lines"},
	}
	for typ, fields := range want {
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Name+" "+f.Type.Name())
		}
		if !reflect.DeepEqual(got, fields) {
			t.Errorf("%s has fields %v, want exactly %v", typ.Name(), got, fields)
		}
	}
}

// The templates use nothing but the typed fields (and what the package adds: the subject,
// the button's words and the Your account link), and call no function but datetime.
func TestTemplatesUseOnlyTheTypedFields(t *testing.T) {
	allowed := map[string]bool{".Name": true, ".Link": true, ".Subject": true, ".Heading": true, ".Button": true,
		".AccountURL": true, ".Label": true, ".Values.Person": true, ".Values.Cohort": true, ".Values.Room": true,
		".Values.Assessment": true, ".Values.When": true, ".Values.Expires": true, ".Values.When.IsZero": true, ".Values.Lines": true}
	funcsAllowed := map[string]bool{"datetime": true, "within": true, "not": true}
	seen := map[string]bool{}
	var walk func(where string, n parse.Node)
	walk = func(where string, n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(where, c)
				}
			}
		case *parse.ActionNode:
			walk(where, n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(where, c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(where, a)
			}
		case *parse.FieldNode:
			name := "." + strings.Join(n.Ident, ".")
			seen[name] = true
			if !allowed[name] {
				t.Errorf("%s uses %s, which is not one of the typed fields", where, name)
			}
		case *parse.ChainNode:
			t.Errorf("%s uses a chain %s", where, n)
		case *parse.VariableNode:
			t.Errorf("%s uses a variable %s", where, n)
		case *parse.IdentifierNode:
			// html/template adds its escapers to a tree once it has run.
			if !funcsAllowed[n.Ident] && !strings.HasPrefix(n.Ident, "_html_template_") {
				t.Errorf("%s calls %s", where, n.Ident)
			}
		case *parse.IfNode:
			walk(where, n.Pipe)
			walk(where, n.List)
			walk(where, n.ElseList)
		case *parse.WithNode:
			walk(where, n.Pipe)
			walk(where, n.List)
			walk(where, n.ElseList)
		case *parse.RangeNode:
			// Only the list of lines may be ranged over, each shown as it is.
			if n.Pipe.String() != ".Values.Lines" || n.ElseList != nil || n.List.String() != "{{.}}" && !onlyDotAndText(n.List) {
				t.Errorf("%s ranges over %s", where, n.Pipe)
			}
			seen[".Values.Lines"] = true
		case *parse.TemplateNode:
			walk(where, n.Pipe)
		}
	}
	for k, tmpl := range templates {
		for _, tt := range tmpl.text.Templates() {
			walk(string(k)+".txt "+tt.Name(), tt.Root)
		}
		for _, ht := range tmpl.html.Templates() {
			walk(string(k)+".html "+ht.Name(), ht.Tree.Root)
		}
	}
	for _, f := range []string{".Name", ".Link", ".Values.Person", ".Values.Room", ".Values.When", ".Values.Expires", ".Values.Assessment"} {
		if !seen[f] {
			t.Errorf("no template uses %s: the walk above looked at nothing", f)
		}
	}
}

// Every kind renders: a one-line subject, a plain text body and an HTML body in the NHS.UK
// look, each greeting the person and holding the link; names are escaped in the HTML.
func TestEveryKindRendersBothBodies(t *testing.T) {
	for _, info := range Kinds() {
		m := sample(info.Kind, "ann@trust.example", "u1")
		m.Name = `Ann <b>"Smith"</b> & co`
		r, err := render(m, "https://polyphony.example/account")
		if err != nil {
			t.Fatalf("%s: %v", info.Kind, err)
		}
		if r.Subject == "" || strings.ContainsAny(r.Subject, "\r\n") || len(r.Subject) > 90 {
			t.Errorf("%s: subject %q", info.Kind, r.Subject)
		}
		if !strings.HasPrefix(r.Text, "Dear "+m.Name+",\n") || !strings.Contains(r.Text, m.Link) {
			t.Errorf("%s: text body lacks the greeting or the link:\n%s", info.Kind, r.Text)
		}
		for _, want := range []string{`<html lang="en-GB">`, `name="viewport"`, "background-color:#005eb8", ">Polyphony<",
			"Dear Ann &lt;b&gt;&#34;Smith&#34;&lt;/b&gt; &amp; co,", `href="https://polyphony.example/go/` + string(info.Kind) + `?t=abc"`} {
			if !strings.Contains(r.HTML, want) {
				t.Errorf("%s: HTML body lacks %s", info.Kind, want)
			}
		}
		if strings.Contains(r.HTML, "<b>") {
			t.Errorf("%s: a name reached the HTML unescaped", info.Kind)
		}
		footer := strings.Contains(r.Text, "https://polyphony.example/account") && strings.Contains(r.HTML, `href="https://polyphony.example/account"`)
		if footer == info.Always {
			t.Errorf("%s (always sent: %v): the Your account link is there: %v", info.Kind, info.Always, footer)
		}
	}
	r, _ := render(sample(KindSessionTomorrow, "ann@trust.example", "u1"), "")
	if !strings.Contains(r.Text, "Friday 4 December 2026 at 2:30pm") || !strings.Contains(r.Text, "Oak room") {
		t.Errorf("session reminder does not give the UK time and the room:\n%s", r.Text)
	}
}

func TestMessagesNotMadeFromBadFields(t *testing.T) {
	ok := sample(KindEntryComment, "ann@trust.example", "u1")
	if err := ok.check(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*Message){
		"unknown kind":    func(m *Message) { m.Kind = "newsletter" },
		"bad address":     func(m *Message) { m.To = "ann at trust" },
		"named address":   func(m *Message) { m.To = "Ann <ann@trust.example>" },
		"two addresses":   func(m *Message) { m.To = "ann@trust.example, bob@trust.example" },
		"no account":      func(m *Message) { m.UserID = "" },
		"relative link":   func(m *Message) { m.Link = "/journal/1" },
		"javascript link": func(m *Message) { m.Link = "javascript:alert(1)" },
		"newline in name": func(m *Message) { m.Name = "Ann\r\nBcc: x@y.z" },
		"long name":       func(m *Message) { m.Values.Person = strings.Repeat("x", 201) },
		"no person":       func(m *Message) { m.Values.Person = " " },
		"no greeting":     func(m *Message) { m.Name = "" },
	} {
		m := ok
		change(&m)
		if err := m.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	inv := sample(KindInvitation, "new@trust.example", "")
	if err := inv.check(); err != nil {
		t.Errorf("an invitation to someone with no account yet: %v", err)
	}
	inv.Values.Expires = time.Time{}
	if err := inv.check(); err == nil {
		t.Error("an invitation without the link's expiry: accepted")
	}
	s := sample(KindSessionTomorrow, "ann@trust.example", "u1")
	s.Values.Room = ""
	if err := s.check(); err == nil {
		t.Error("a session reminder without its room: accepted")
	}
}

// A reset email says how long its link works from when it was asked for, and until when.
func TestResetEmailSaysHowLongItsLinkWorks(t *testing.T) {
	asked := time.Date(2026, 12, 4, 14, 0, 0, 0, time.UTC)
	m := Message{Kind: KindPasswordReset, To: "ann@trust.example", UserID: "u-ann", Name: "Ann", Link: "https://polyphony.example/password?link=x",
		Values: Values{When: asked, Expires: asked.Add(30 * time.Minute)}}
	out, err := render(m, "")
	if err != nil {
		t.Fatal(err)
	}
	want := "The link works once, within 30 minutes, until Friday 4 December 2026 at 2:30pm."
	if !strings.Contains(out.Text, want) || !strings.Contains(out.HTML, want) {
		t.Errorf("the reset email does not say %q:\n%s\n%s", want, out.Text, out.HTML)
	}
	for d, words := range map[time.Duration]string{time.Minute: "1 minute", 90 * time.Minute: "90 minutes", 3 * time.Hour: "3 hours", 7 * 24 * time.Hour: "7 days"} {
		if got := within(asked, asked.Add(d)); got != words {
			t.Errorf("within %s = %q, want %q", d, got, words)
		}
	}
	if got := within(time.Time{}, asked); got != "" {
		t.Errorf("within from an unknown time = %q, want nothing", got)
	}
}

// The weekly email of trainees at risk lists each line, escaped in the HTML; a line that is
// too long, or too many of them, is refused.
func TestAtRiskEmailListsItsLines(t *testing.T) {
	m := sample(KindAtRisk, "fran@trust.example", "u-fran")
	m.Values.Lines = Lines{"Pat Peer: Dialogue sessions attended, at risk (The last two sessions were both missed)", "Sam <b>Smith</b>: Supervision, not met"}
	out, err := render(m, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"- Pat Peer: Dialogue sessions attended, at risk (The last two sessions were both missed)", "- Sam <b>Smith</b>: Supervision, not met"} {
		if !strings.Contains(out.Text, want) {
			t.Errorf("the text lacks %q:\n%s", want, out.Text)
		}
	}
	if !strings.Contains(out.HTML, "<li>Sam &lt;b&gt;Smith&lt;/b&gt;: Supervision, not met</li>") {
		t.Errorf("the HTML does not list the line escaped:\n%s", out.HTML)
	}
	long := m
	long.Values.Lines = Lines{strings.Repeat("x", maxField+1)}
	if err := long.check(); err == nil {
		t.Error("a line longer than a field: accepted")
	}
	many := m
	many.Values.Lines = make(Lines, maxLines+1)
	for i := range many.Values.Lines {
		many.Values.Lines[i] = "a line"
	}
	if err := many.check(); err == nil {
		t.Error("more lines than an email holds: accepted")
	}
}

// onlyDotAndText reports whether a range's body shows nothing but the line itself among text.
func onlyDotAndText(l *parse.ListNode) bool {
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
		case *parse.ActionNode:
			if len(n.Pipe.Cmds) == 0 {
				return false
			}
			for _, c := range n.Pipe.Cmds {
				if len(c.Args) == 0 {
					return false
				}
				if _, dot := c.Args[0].(*parse.DotNode); !dot {
					if id, ok := c.Args[0].(*parse.IdentifierNode); !ok || !strings.HasPrefix(id.Ident, "_html_template_") {
						return false
					}
				}
			}
		default:
			return false
		}
	}
	return true
}
