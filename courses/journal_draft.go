package courses

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// checkLength refuses text over max characters, naming the field.
// checkLength refuses text that is not readable or longer than max characters; what names
// it in the form's words ("the title") for the message.
func checkLength(field, what, s string, max int) error {
	if !utf8.ValidString(s) {
		return failure.Problemf(field, "%s contains characters that cannot be read: type it again", upperFirst(what))
	}
	if n := utf8.RuneCountInString(s); n > max {
		return failure.Problemf(field, "%s must be %d characters or fewer: it has %d", upperFirst(what), max, n)
	}
	return nil
}

// normaliseDraft checks a draft and puts it in its stored form: the title on one line, the
// body with Unix line ends, tags known and in the list's order, links well formed and
// without repeats. Whether linked pages and sessions exist is checked by checkLinks.
func normaliseDraft(d Draft) (Draft, error) {
	d.Title = strings.Join(strings.Fields(d.Title), " ")
	titleErr := checkLength("title", "the title", d.Title, MaxJournalTitle)
	d.Body = strings.ReplaceAll(d.Body, "\r\n", "\n")
	bodyErr := checkLength("body", "the entry", d.Body, MaxJournalBody)
	tags, tagsErr := normaliseTags(d.Tags)
	links, linksErr := normaliseLinks(d.Links)
	if err := failure.Problems(titleErr, bodyErr, tagsErr, linksErr); err != nil {
		return Draft{}, err
	}
	d.Tags, d.Links = tags, links
	return d, nil
}

func normaliseLinks(links []Link) ([]Link, error) {
	if len(links) > maxJournalLinks {
		return nil, failure.Invalidf("links", "an entry may link to at most %d pages and sessions, not %d", maxJournalLinks, len(links))
	}
	out := []Link{}
	seen := map[Link]bool{}
	for i, l := range links {
		f := fmt.Sprintf("links[%d]", i)
		l.Target = strings.TrimSpace(l.Target)
		switch l.Kind {
		case LinkPage:
			if !slugPattern.MatchString(l.Target) {
				return nil, failure.Invalidf(f+".target", "%q is not a page slug (lower-case letters, digits and dashes)", l.Target)
			}
		case LinkSession:
			if !activityIDPattern.MatchString(l.Target) {
				return nil, failure.Invalidf(f+".target", "%q is not a dialogue session id", l.Target)
			}
		default:
			return nil, failure.Invalidf(f+".kind", "%q is not a kind of link; use page or session", l.Kind)
		}
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out, nil
}

// checkLinks makes sure that each link not already in known points at a curriculum page
// that exists and at a dialogue session of one of the author's cohorts.
func (j *Journals) checkLinks(ctx context.Context, ownerID string, links, known []Link) error {
	had := map[Link]bool{}
	for _, l := range known {
		had[l] = true
	}
	var sessions map[string]bool
	for i, l := range links {
		if had[l] {
			continue
		}
		f := fmt.Sprintf("links[%d].target", i)
		switch l.Kind {
		case LinkPage:
			if j.pageExists == nil {
				continue
			}
			ok, err := j.pageExists(ctx, l.Target)
			if err != nil {
				return err
			}
			if !ok {
				return failure.Invalidf(f, "the curriculum has no page %q", l.Target)
			}
		case LinkSession:
			if sessions == nil {
				var err error
				if sessions, err = j.dialogueSessions(ctx, ownerID); err != nil {
					return err
				}
			}
			if !sessions[l.Target] {
				return failure.Invalidf(f, "%q is not a dialogue session of your cohort's programme", l.Target)
			}
		}
	}
	return nil
}

// dialogueSessions lists the ids of the dialogue sessions in the programmes of the cohorts
// where the person is a trainee.
func (j *Journals) dialogueSessions(ctx context.Context, userID string) (map[string]bool, error) {
	ms, err := j.cohorts.MembershipsOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, m := range ms {
		if m.Role != accounts.RoleTrainee {
			continue
		}
		p, err := j.cohorts.Programme(ctx, m.CohortID)
		if err != nil {
			continue // a cohort without a programme has no sessions
		}
		for _, per := range p.Periods {
			for _, a := range per.Activities {
				if a.Kind == ActivityDialogue {
					out[a.ID] = true
				}
			}
		}
	}
	return out, nil
}
