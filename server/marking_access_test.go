package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"polyphony/assessment/marking"
	"polyphony/internal/accounts"
)

// markingAccess is who may use each route of assessed work. The store decides; these are
// the answers it must give to each kind of caller.
var markingAccess = map[string]string{
	"GET /api/v1/marking/rubrics":                                   "assessor",
	"GET /api/v1/cohorts/:id/pieces":                                "cohort-member",
	"POST /api/v1/cohorts/:id/pieces":                               "cohort-assessor",
	"GET /api/v1/pieces/:piece":                                     "cohort-member",
	"PUT /api/v1/pieces/:piece":                                     "cohort-assessor",
	"GET /api/v1/pieces/:piece/mine":                                "cohort-member", // one's own, which for staff is empty
	"PUT /api/v1/pieces/:piece/mine":                                "cohort-trainee",
	"POST /api/v1/pieces/:piece/mine/withdraw":                      "cohort-trainee",
	"POST /api/v1/pieces/:piece/extensions":                         "admin",
	"POST /api/v1/pieces/:piece/allocation":                         "cohort-assessor",
	"PUT /api/v1/pieces/:piece/submissions/:who/markers":            "cohort-assessor",
	"GET /api/v1/pieces/:piece/submissions/:who/files/:n":           "marker",    // and moderators: the cohort's assessors, as the journal lets assessors read
	"GET /api/v1/me/marking":                                        "signed-in", // one's own queue
	"GET /api/v1/assessors/:id/marking":                             "admin",     // another's
	"GET /api/v1/pieces/:piece/submissions/:who/marks/mine":         "marker",
	"PUT /api/v1/pieces/:piece/submissions/:who/marks/mine":         "marker",
	"POST /api/v1/pieces/:piece/submissions/:who/marks/mine/submit": "marker",
	"GET /api/v1/pieces/:piece/submissions/:who/marks/:marker":      "marker", // a draft: its marker's alone
	"POST /api/v1/pieces/:piece/submissions/:who/moderation":        "moderator",
	"POST /api/v1/pieces/:piece/submissions/:who/moderation/open":   "moderator",
	"POST /api/v1/pieces/:piece/submissions/:who/remoderation":      "moderator",
	"GET /api/v1/pieces/:piece/submissions/:who/trail":              "cohort-assessor",
	"POST /api/v1/pieces/:piece/release":                            "admin",
	"GET /api/v1/pieces/:piece/submissions":                         "cohort-assessor",
	"GET /api/v1/pieces/:piece/submissions/:who":                    "cohort-assessor", // its markers, moderators and administrators
	"GET /api/v1/pieces/:piece/sample":                              "cohort-assessor",
	"POST /api/v1/pieces/:piece/sample":                             "cohort-assessor",
	"POST /api/v1/pieces/:piece/sample/confirm":                     "cohort-assessor",
	"GET /api/v1/pieces/:piece/results.csv":                         "admin",
	"GET /api/v1/pieces/:piece/agreement.csv":                       "admin",
	"GET /api/v1/cohorts/:id/marking/agreement":                     "cohort-assessor",

	// The pages.
	"GET /marking":                                            "signed-in",
	"GET /marking/cohorts/:id/new":                            "cohort-assessor",
	"POST /marking/cohorts/:id/pieces":                        "cohort-assessor",
	"GET /marking/cohorts/:id/agreement":                      "cohort-assessor",
	"GET /marking/pieces/:piece":                              "cohort-member",
	"GET /marking/pieces/:piece/edit":                         "cohort-assessor",
	"POST /marking/pieces/:piece":                             "cohort-assessor",
	"POST /marking/pieces/:piece/submit":                      "cohort-trainee",
	"POST /marking/pieces/:piece/withdraw":                    "cohort-trainee",
	"POST /marking/pieces/:piece/allocation":                  "cohort-assessor",
	"POST /marking/pieces/:piece/release":                     "admin",
	"POST /marking/pieces/:piece/sample":                      "cohort-assessor",
	"POST /marking/pieces/:piece/sample/confirm":              "cohort-assessor",
	"POST /marking/pieces/:piece/extensions":                  "admin",
	"POST /marking/pieces/:piece/submissions/:who/markers":    "cohort-assessor",
	"GET /marking/pieces/:piece/submissions/:who":             "cohort-assessor",
	"POST /marking/pieces/:piece/submissions/:who":            "marker",
	"POST /marking/pieces/:piece/submissions/:who/submit":     "marker",
	"POST /marking/pieces/:piece/submissions/:who/moderation": "moderator",
}

func init() {
	for k, v := range markingAccess {
		expectedAccess[k] = v
	}
	for k, v := range markingRequests {
		successRequests[k] = v
	}
}

// markingWorld is the assessed work the access matrix reaches, all of the demo trainee's:
// piece A is submitted and not yet marked (the trainee's routes); on piece B the demo
// assessor marks, with a draft saved; on C two other assessors disagree, so it waits for the
// demo assessor as moderator; D is released, for re-moderation.
type markingWorld struct {
	a, b, c, d string
	e          string // like B, for the marking page's own submit
	f          string // takes a file, which the demo assessor marks
	marker     string // another assessor, who marks C and D: their queue is not the demo assessor's
	entry      string // submitted to the assessors, for submitting A again
}

func (w *accessWorld) buildMarking(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	f := w.f
	st := f.marking
	cohort := w.cohort
	adminID := f.userID(t, f.byRole[accounts.RoleAdmin].Email)
	admin := marking.Actor{UserID: adminID, Role: accounts.RoleAdmin}
	trainee := marking.Actor{UserID: w.traineeID, Role: accounts.RoleTrainee, CohortIDs: []string{cohort}}
	assessorID := f.userID(t, f.byRole[accounts.RoleAssessor].Email)
	assessor := marking.Actor{UserID: assessorID, Role: accounts.RoleAssessor, CohortIDs: []string{cohort}}
	var others [2]marking.Actor
	for i := range others {
		u, err := f.accounts.Users.Create(ctx, accounts.NewUser{Email: randomWord() + "@marking.example", Name: "Marker", Role: accounts.RoleAssessor, Password: "marker password 1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.courses.Enrol(ctx, cohort, u.ID, accounts.RoleAssessor); err != nil {
			t.Fatal(err)
		}
		others[i] = marking.Actor{UserID: u.ID, Role: accounts.RoleAssessor, CohortIDs: []string{cohort}}
	}
	items := marking.Items{Entries: []marking.EntryItem{{EntryID: w.entry, Version: 1, Title: "Matrix entry"}}}
	piece := func(scheme string) (marking.Piece, marking.Submission) {
		t.Helper()
		p, err := st.CreatePiece(ctx, admin, cohort, pieceInput("Matrix "+scheme, marking.SevenPrinciplesRubricID, scheme, false))
		if err != nil {
			t.Fatal(err)
		}
		sub, err := st.Submit(ctx, trainee, p.ID, items)
		if err != nil {
			t.Fatal(err)
		}
		return p, sub
	}
	mark := func(who marking.Actor, sub marking.Submission, level int, submit bool) {
		t.Helper()
		m, err := st.SaveDraft(ctx, who, sub.ID, 0, allLevels(t, f, marking.SevenPrinciplesRubricID, level))
		if err != nil {
			t.Fatal(err)
		}
		if submit {
			if _, err := st.SubmitMark(ctx, who, sub.ID, m.Version); err != nil {
				t.Fatal(err)
			}
		}
	}
	a, _ := piece(marking.SchemeSingle)
	b, subB := piece(marking.SchemeSingle)
	if _, err := st.Allocate(ctx, admin, subB.ID, []string{assessorID}); err != nil {
		t.Fatal(err)
	}
	mark(assessor, subB, 1, false)
	e, subE := piece(marking.SchemeSingle)
	if _, err := st.Allocate(ctx, admin, subE.ID, []string{assessorID}); err != nil {
		t.Fatal(err)
	}
	mark(assessor, subE, 1, false)
	w.marking.e = e.ID
	c, subC := piece(marking.SchemeDoubleBlind)
	if _, err := st.Allocate(ctx, admin, subC.ID, []string{others[0].UserID, others[1].UserID}); err != nil {
		t.Fatal(err)
	}
	mark(others[0], subC, 0, true)
	mark(others[1], subC, 2, true)
	d, subD := piece(marking.SchemeSingle)
	if _, err := st.Allocate(ctx, admin, subD.ID, []string{others[0].UserID}); err != nil {
		t.Fatal(err)
	}
	mark(others[0], subD, 1, true)
	if rep, err := st.Release(ctx, admin, d.ID, ""); err != nil || len(rep.Released) != 1 {
		t.Fatalf("release D: %+v, %v", rep, err)
	}
	if _, err := st.DrawSample(ctx, admin, d.ID, 1); err != nil {
		t.Fatal(err)
	}
	w.marking.a, w.marking.b, w.marking.c, w.marking.d = a.ID, b.ID, c.ID, d.ID
	w.marking.marker = others[0].UserID

	// F takes a picture attached to an entry submitted to the assessors, submitted through
	// the API as the trainee's page does.
	in := pieceInput("Matrix files", marking.SevenPrinciplesRubricID, marking.SchemeSingle, false)
	in.Accepts = marking.Accepts{Files: true}
	pf, err := st.CreatePiece(ctx, admin, cohort, in)
	if err != nil {
		t.Fatal(err)
	}
	withFile, key := pictureForAssessors(t, w.trainee, "Matrix picture", "room.png")
	res, body := w.trainee.send("PUT", "/api/v1/pieces/"+pf.ID+"/mine", map[string]any{"files": []map[string]string{{"entryId": withFile, "key": key}}, "filesAgreed": true}, nil)
	wantStatus(t, "submit the file", res, body, http.StatusOK)
	if _, err := st.Allocate(ctx, admin, marking.SubmissionID(pf.ID, w.traineeID), []string{assessorID}); err != nil {
		t.Fatal(err)
	}
	w.marking.f = pf.ID
}

// resubmitA submits piece A again as the trainee, when it is withdrawn, so that the next
// withdrawal has something to withdraw.
func (w *accessWorld) resubmitA() {
	trainee := marking.Actor{UserID: w.traineeID, Role: accounts.RoleTrainee, CohortIDs: []string{w.cohort}}
	items := marking.Items{Entries: []marking.EntryItem{{EntryID: w.entry, Version: 1, Title: "Matrix entry"}}}
	if _, err := w.f.marking.Submit(context.Background(), trainee, w.marking.a, items); err != nil {
		w.t.Fatal(err)
	}
}

// markingEntry is a second entry of the trainee's, submitted to the assessors.
func (w *accessWorld) markingEntry(t *testing.T) string {
	t.Helper()
	e := createEntry(t, w.trainee, "Matrix account", "Submitted for assessed work.")
	res, body := w.trainee.send("PUT", "/api/v1/journal/entries/"+e.ID+"/sharing/assessors", map[string]any{"shared": true}, nil)
	wantStatus(t, "submit the entry to the assessors", res, body, http.StatusOK)
	return e.ID
}

// fillMarking puts the piece each kind of route needs, and its trainee, into the pattern.
func (w *accessWorld) fillMarking(pattern string) string {
	piece := w.marking.a
	switch {
	case strings.Contains(pattern, "/files/"):
		piece = w.marking.f
	case strings.HasPrefix(pattern, "/marking/pieces/:piece/submissions/:who") && !strings.HasSuffix(pattern, "/moderation"):
		piece = w.marking.e
	case strings.Contains(pattern, "/marks/"), strings.HasSuffix(pattern, "/markers"):
		piece = w.marking.b
	case strings.HasPrefix(pattern, "/marking/pieces/:piece/sample"):
		piece = w.marking.a // D's sample is confirmed by then, and stays
	case strings.HasSuffix(pattern, "/remoderation"), strings.Contains(pattern, "/sample"):
		piece = w.marking.d
	case strings.Contains(pattern, "/moderation"), strings.HasSuffix(pattern, "/trail"):
		piece = w.marking.c
	}
	assessorID := w.f.userID(w.t, w.f.byRole[accounts.RoleAssessor].Email)
	return strings.NewReplacer(":piece", piece, ":who", w.traineeID, ":marker", assessorID).Replace(pattern)
}

// markForm is the marking page's form at the demo assessor's current version on piece E.
func (w *accessWorld) markForm() request {
	v := w.version(w.assessor, "/api/v1/pieces/"+w.marking.e+"/submissions/"+w.traineeID+"/marks/mine")
	r, err := w.f.marking.LatestRubric(context.Background(), marking.SevenPrinciplesRubricID)
	if err != nil {
		w.t.Fatal(err)
	}
	kv := []string{"baseVersion", v, "feedback", "From the matrix."}
	for _, cr := range r.Criteria {
		kv = append(kv, "level-"+cr.ID, "pass")
	}
	return form(kv...)
}

var markingRequests = map[string]func(w *accessWorld) request{
	"POST /marking/cohorts/:id/pieces": func(w *accessWorld) request {
		return form("title", "Matrix "+randomWord(), "dueDate", "2030-03-02", "dueTime", "17:00", "rubric", "key-elements", "scheme", "single", "accepts", "entries", "tolerance", "2")
	},
	"POST /marking/pieces/:piece": func(w *accessWorld) request {
		v := w.version(w.admin, "/api/v1/pieces/"+w.marking.a)
		return form("baseVersion", v, "title", "Matrix A", "dueDate", "2030-03-02", "dueTime", "17:00", "rubric", "seven-principles", "scheme", "single", "accepts", "entries", "tolerance", "2")
	},
	"POST /marking/pieces/:piece/sample/confirm": func(w *accessWorld) request { return form("comment", "Read every one.") },
	"POST /marking/pieces/:piece/extensions": func(w *accessWorld) request {
		return form("traineeId", w.traineeID, "untilDate", "2030-03-09", "untilTime", "17:00", "reason", "Illness")
	},
	"POST /marking/pieces/:piece/submissions/:who/markers": func(w *accessWorld) request {
		return form("markers", w.f.userID(w.t, w.f.byRole[accounts.RoleAssessor].Email))
	},
	"POST /marking/pieces/:piece/submit":   func(w *accessWorld) request { return form("entries", w.marking.entry) },
	"POST /marking/pieces/:piece/withdraw": func(w *accessWorld) request { w.resubmitA(); return form() },
	"POST /marking/pieces/:piece/allocation": func(w *accessWorld) request {
		return form("assessors", w.f.userID(w.t, w.f.byRole[accounts.RoleAssessor].Email))
	},
	"POST /marking/pieces/:piece/submissions/:who":        func(w *accessWorld) request { return w.markForm() },
	"POST /marking/pieces/:piece/submissions/:who/submit": func(w *accessWorld) request { return w.markForm() },
	"POST /marking/pieces/:piece/submissions/:who/moderation": func(w *accessWorld) request {
		return form("total", "15", "outcome", "pass", "reason", "Read both.")
	},
	"POST /api/v1/cohorts/:id/pieces": func(w *accessWorld) request {
		return jsonBody(pieceInput("Matrix "+randomWord(), marking.KeyElementsRubricID, marking.SchemeSingle, true))
	},
	"PUT /api/v1/pieces/:piece": func(w *accessWorld) request {
		path := "/api/v1/pieces/" + w.marking.a
		r := jsonBody(pieceInput("Matrix A, changed", marking.SevenPrinciplesRubricID, marking.SchemeSingle, false))
		r.headers = map[string]string{"If-Match": w.etag(w.admin, path)}
		return r
	},
	"PUT /api/v1/pieces/:piece/mine": func(w *accessWorld) request {
		return jsonBody(map[string]any{"entries": []string{w.marking.entry}})
	},
	"POST /api/v1/pieces/:piece/extensions": func(w *accessWorld) request {
		p, err := w.f.marking.Piece(context.Background(), marking.Actor{UserID: "matrix", Role: accounts.RoleAdmin}, w.marking.a)
		if err != nil {
			w.t.Fatal(err)
		}
		return jsonBody(map[string]any{"traineeId": w.traineeID, "until": p.Due.Add(72 * 3600e9), "reason": "Illness"})
	},
	"POST /api/v1/pieces/:piece/allocation": func(w *accessWorld) request {
		return jsonBody(map[string]any{"assessors": []string{w.f.userID(w.t, w.f.byRole[accounts.RoleAssessor].Email)}})
	},
	"PUT /api/v1/pieces/:piece/submissions/:who/markers": func(w *accessWorld) request {
		return jsonBody(map[string]any{"markers": []string{w.f.userID(w.t, w.f.byRole[accounts.RoleAssessor].Email)}})
	},
	"PUT /api/v1/pieces/:piece/submissions/:who/marks/mine": func(w *accessWorld) request {
		r := jsonBody(allLevels(w.t, w.f, marking.SevenPrinciplesRubricID, 2))
		r.headers = map[string]string{"If-Match": w.etag(w.assessor, w.fillMarking("/api/v1/pieces/:piece/submissions/:who/marks/mine"))}
		return r
	},
	"POST /api/v1/pieces/:piece/submissions/:who/marks/mine/submit": func(w *accessWorld) request {
		return request{headers: map[string]string{"If-Match": w.etag(w.assessor, w.fillMarking("/api/v1/pieces/:piece/submissions/:who/marks/mine"))}}
	},
	"POST /api/v1/pieces/:piece/submissions/:who/moderation": func(w *accessWorld) request {
		return jsonBody(map[string]any{"total": 14, "outcome": "pass", "reason": "Read both and the account."})
	},
	"POST /api/v1/pieces/:piece/sample/confirm": func(w *accessWorld) request {
		return jsonBody(map[string]any{"comment": "Read every one sampled."})
	},
	"POST /api/v1/pieces/:piece/submissions/:who/moderation/open": func(w *accessWorld) request {
		return jsonBody(map[string]any{"reason": "Sampled for the board."})
	},
	"POST /api/v1/pieces/:piece/submissions/:who/remoderation": func(w *accessWorld) request {
		return jsonBody(map[string]any{"total": 16, "outcome": "pass", "reason": "The board asked for a second look."})
	},
}
