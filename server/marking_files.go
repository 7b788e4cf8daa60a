package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/assessment/marking"
	"polyphony/content/media"
	"polyphony/courses"
	"polyphony/internal/failure"
)

// fileChoice names a file or medium the trainee submits: an attachment, by its key, of
// one of their entries as they submitted it to the assessors.
type fileChoice struct {
	EntryID string `json:"entryId"`
	Key     string `json:"key"`
}

// fileOption is a file the submit page offers: an attachment of the revision of an entry
// the trainee submitted to the assessors.
type fileOption struct {
	courses.Attachment
	EntryID, EntryTitle string
	Version             int
	Chosen              bool
}

// Value is the option's value in the submit form: the entry and the key, which holds no
// space.
func (o fileOption) Value() string { return o.EntryID + " " + o.Key }

// fileChoicesFromForm reads the submit form's files, each "entry key".
func fileChoicesFromForm(values []string) []fileChoice {
	var out []fileChoice
	for _, v := range values {
		entry, key, _ := strings.Cut(strings.TrimSpace(v), " ")
		out = append(out, fileChoice{EntryID: entry, Key: key})
	}
	return out
}

// fileOptions lists the files the trainee may submit: the attachments of each of their
// entries at the revision they submitted to the assessors, which that revision freezes.
func (s *Server) fileOptions(c echo.Context, mine []courses.EntrySummary, chosen []marking.FileItem) ([]fileOption, error) {
	u := currentUser(c)
	var out []fileOption
	for _, e := range mine {
		if e.Sharing == nil || !e.Sharing.Assessors || e.Sharing.SubmittedVersion < 1 {
			continue
		}
		rev, err := s.deps.Journals.ReadRevision(c.Request().Context(), courses.Viewer{UserID: u.ID, Role: u.Role}, e.ID, e.Sharing.SubmittedVersion)
		if err != nil {
			return nil, err
		}
		for _, a := range rev.Attachments {
			picked := slices.ContainsFunc(chosen, func(f marking.FileItem) bool { return f.EntryID == e.ID && f.Key == a.Key })
			out = append(out, fileOption{Attachment: a, EntryID: e.ID, EntryTitle: e.Title, Version: rev.Version, Chosen: picked})
		}
	}
	return out, nil
}

// submittedFiles turns the trainee's chosen files into what is frozen: each must be an
// attachment of the revision of their entry they submitted to the assessors, and is taken
// with the SHA-256 of its content as stored now.
func (s *Server) submittedFiles(c echo.Context, byID map[string]courses.EntrySummary, choices []fileChoice) ([]marking.FileItem, error) {
	u := currentUser(c)
	ctx := c.Request().Context()
	var out []marking.FileItem
	var errs []error
	seen := map[fileChoice]bool{}
	revs := map[string]courses.Entry{} // each entry's submitted revision, read once
	for i, ch := range choices {
		field := "files[" + itoa(i) + "]"
		e, ok := byID[ch.EntryID]
		switch {
		case !ok:
			errs = append(errs, failure.Problem(field+".entryId", "Choose a file of one of your own journal entries"))
			continue
		case e.Sharing == nil || !e.Sharing.Assessors || e.Sharing.SubmittedVersion < 1:
			errs = append(errs, failure.Problemf(field+".entryId", "Submit %q to the assessors from your journal first: that freezes the files marked", e.Title))
			continue
		case seen[ch]:
			errs = append(errs, failure.Problem(field+".key", "This file is chosen twice"))
			continue
		}
		seen[ch] = true
		rev, ok := revs[e.ID]
		if !ok {
			var err error
			if rev, err = s.deps.Journals.ReadRevision(ctx, courses.Viewer{UserID: u.ID, Role: u.Role}, e.ID, e.Sharing.SubmittedVersion); err != nil {
				return nil, err
			}
			revs[e.ID] = rev
		}
		at := slices.IndexFunc(rev.Attachments, func(a courses.Attachment) bool { return a.Key == ch.Key })
		if at < 0 {
			errs = append(errs, failure.Problemf(field+".key", "%q, as you submitted it to the assessors, holds no such file: attach it and submit the entry again", e.Title))
			continue
		}
		a := rev.Attachments[at]
		sum, err := s.contentHash(c, a.Key)
		if err != nil {
			return nil, err
		}
		out = append(out, marking.FileItem{EntryID: e.ID, Version: rev.Version, Key: a.Key, Hash: sum, Name: a.Name, ContentType: a.ContentType, Size: a.Size})
	}
	return out, failure.Problems(errs...)
}

// contentHash is the SHA-256 of a stored object's content, "sha256:" and hex.
func (s *Server) contentHash(c echo.Context, key string) (string, error) {
	if s.deps.Media == nil {
		return "", failure.Problem("files", "Files cannot be submitted here: no media store is set up")
	}
	rc, _, err := s.deps.Media.Get(c.Request().Context(), key)
	if errors.Is(err, media.ErrNotFound) {
		return "", failure.Problem("files", "A chosen file is no longer stored: attach it to the entry again")
	}
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", fmt.Errorf("read %s to hash it: %w", key, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// apiSubmittedFile serves a submitted file to those who may read the submission (the
// marking store decides) while the journal still lets them read it (the entry is still
// shared with the assessors), under the name markers see: under anonymous marking the
// candidate number's, never the trainee's. An object whose size is not what was submitted is
// not served.
// The read goes into the trainee's access log, naming the reader only where the piece lets
// the trainee know who marked.
func (s *Server) apiSubmittedFile(c echo.Context) error {
	st, a, err := s.markingActor(c)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		return failure.ErrNotFound
	}
	ctx := c.Request().Context()
	sf, err := st.SubmittedFile(ctx, a, submissionRef(c), n)
	if err != nil {
		return err
	}
	if s.deps.Journals == nil || s.deps.Media == nil {
		return failure.ErrNotFound
	}
	loggedAs := courses.MarkingReader
	if sf.NamesMarker {
		loggedAs = a.UserID
	}
	u := currentUser(c)
	if _, err := s.deps.Journals.AttachmentForMarking(ctx, courses.Viewer{UserID: u.ID, Role: u.Role}, sf.File.EntryID, sf.File.Version, sf.File.Key, loggedAs); err != nil {
		return err
	}
	rc, info, err := s.deps.Media.Get(ctx, sf.File.Key)
	if errors.Is(err, media.ErrNotFound) {
		return failure.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	if info.Size != sf.File.Size {
		return fmt.Errorf("submitted file %d of %s: %d bytes stored, %d submitted", n, submissionRef(c), info.Size, sf.File.Size)
	}
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return serveStored(c, rc, info, sf.Name)
}
