package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
	_ "time/tzdata" // the times in an email are UK times, whatever the machine's zone files
)

//go:embed templates
var templateFS embed.FS

// london is the zone every time in an email is given in.
var london = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return l
}()

// datetime writes a time the NHS.UK way: "Friday 4 December 2026 at 2:30pm".
func datetime(t time.Time) string {
	t = t.In(london)
	clock := strings.ToLower(t.Format("3:04PM"))
	if t.Minute() == 0 {
		clock = strings.ToLower(t.Format("3PM"))
	}
	return t.Format("Monday 2 January 2006") + " at " + clock
}

// within writes how long a link made at from works until to, in words ("30 minutes",
// "7 days"); "" when from is not known.
func within(from, to time.Time) string {
	if from.IsZero() || !to.After(from) {
		return ""
	}
	d := to.Sub(from).Round(time.Minute)
	n, unit := int(d/time.Minute), "minute"
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		n, unit = int(d/(24*time.Hour)), "day"
	case d >= 2*time.Hour && d%time.Hour == 0:
		n, unit = int(d/time.Hour), "hour"
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", n, unit)
}

var funcs = map[string]any{"datetime": datetime, "within": within}

// view is everything a template is given: the message's typed fields and what this package
// adds (the subject, the button's words, the Your account link).
type view struct {
	Name   string
	Link   string
	Values Values
	// Subject is also the HTML email's heading.
	Subject string
	Heading string
	Button  string
	// AccountURL and Label are set for kinds a person can turn off, to say how.
	AccountURL string
	Label      string
}

// kindTemplates are one kind's parsed templates.
type kindTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// templates holds every kind's templates, parsed once at start.
var templates = func() map[Kind]kindTemplates {
	out := map[Kind]kindTemplates{}
	textLayout := texttemplate.Must(texttemplate.New("layout.txt").Funcs(funcs).ParseFS(templateFS, "templates/layout.txt"))
	htmlLayout := htmltemplate.Must(htmltemplate.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	for _, k := range kinds {
		t := texttemplate.Must(texttemplate.Must(textLayout.Clone()).ParseFS(templateFS, "templates/"+string(k.Kind)+".txt"))
		h := htmltemplate.Must(htmltemplate.Must(htmlLayout.Clone()).ParseFS(templateFS, "templates/"+string(k.Kind)+".html"))
		for _, name := range []string{"subject", "action", "text"} {
			if t.Lookup(name) == nil {
				panic(fmt.Sprintf("mail: templates/%s.txt defines no %q", k.Kind, name))
			}
		}
		if h.Lookup("html") == nil {
			panic(fmt.Sprintf("mail: templates/%s.html defines no \"html\"", k.Kind))
		}
		out[k.Kind] = kindTemplates{text: t, html: h}
	}
	return out
}()

// rendered is an email's subject and its two bodies.
type rendered struct {
	Subject, Text, HTML string
}

// render makes the email of m from its kind's templates; accountURL is the Your account
// page, linked from the kinds a person can turn off.
func render(m Message, accountURL string) (rendered, error) {
	s, ok := spec(m.Kind)
	if !ok {
		return rendered{}, fmt.Errorf("render: %q is not a kind of email", m.Kind)
	}
	t := templates[m.Kind]
	v := view{Name: m.Name, Link: m.Link, Values: m.Values}
	if !s.Always && accountURL != "" {
		v.AccountURL, v.Label = accountURL, s.Label
	}
	run := func(name string) (string, error) {
		var b bytes.Buffer
		if err := t.text.ExecuteTemplate(&b, name, v); err != nil {
			return "", fmt.Errorf("render %s %s: %w", m.Kind, name, err)
		}
		return b.String(), nil
	}
	var r rendered
	var err error
	if v.Subject, err = run("subject"); err != nil {
		return r, err
	}
	// A subject is one line: the header cannot be split by what a name holds.
	v.Subject = strings.Join(strings.Fields(v.Subject), " ")
	v.Heading = v.Subject
	if v.Button, err = run("action"); err != nil {
		return r, err
	}
	v.Button = strings.TrimSpace(v.Button)
	if r.Text, err = run("layout"); err != nil {
		return r, err
	}
	var h bytes.Buffer
	if err := t.html.ExecuteTemplate(&h, "layout", v); err != nil {
		return r, fmt.Errorf("render %s html: %w", m.Kind, err)
	}
	r.Subject, r.HTML = v.Subject, h.String()
	return r, nil
}
