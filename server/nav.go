package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"polyphony/courses"
	"polyphony/internal/accounts"
)

// navItem is one link of the header's menu. Key is the Nav a page sets to mark the item as
// the current one.
type navItem struct {
	Key, Href, Label string
}

// Every role's menu starts with the programme's own pages and ends with the account.
var (
	navHome       = navItem{"home", "/", "Home"}
	navProgramme  = navItem{"programme", "/programme", "Programme"}
	navCohort     = navItem{"cohort", "/cohorts", "Cohort"}
	navCurriculum = navItem{"curriculum", "/curriculum", "Curriculum"}
	navSchedule   = navItem{"schedule", "/schedule", "Schedule"}
	navReading    = navItem{"reading", "/reading-list", "Reading list"}
	navJournal    = navItem{"journal", "/journal", "Journal"}
	navPractice   = navItem{"practice", "/practice", "Practice"}
	navSupervise  = navItem{"supervision", "/supervision", "Supervision"}
	navAssess     = navItem{"assessments", "/assessments", "Assessments"}
	navProgress   = navItem{"progress", "/progress", "Progress"}
	navMarking    = navItem{"marking", "/marking", "Assessed work"}
	navAdmin      = navItem{"admin", "/admin", "People and cohorts"}
	navAccount    = navItem{"account", "/account", "Your account"}
)

// menuFor lists the header's menu for the person: the pages each role works in, in the order
// of their day. A trainee keeps a journal and logs practice and supervision; a facilitator
// runs a cohort; a supervisor reads what is shared and confirms supervision; an assessor
// reads what is submitted and marks.
func menuFor(u *accounts.User) []navItem {
	if u == nil {
		return nil
	}
	menu := []navItem{navHome, navProgramme}
	if u.Role == accounts.RoleFacilitator {
		menu = append(menu, navCohort)
	}
	menu = append(menu, navCurriculum, navSchedule, navReading)
	switch u.Role {
	case accounts.RoleTrainee:
		menu = append(menu, navJournal, navPractice, navSupervise, navAssess, navMarking, navProgress)
	case accounts.RoleFacilitator:
		menu = append(menu, navProgress)
	case accounts.RoleSupervisor:
		menu = append(menu, navJournal, navSupervise, navPractice, navProgress)
	case accounts.RoleAssessor:
		menu = append(menu, navJournal, navAssess, navMarking)
	case accounts.RoleAdmin:
		menu = append(menu, navAssess, navMarking, navProgress, navAdmin)
	}
	return append(menu, navAccount)
}

// Menu is the header's menu for the person the page is for.
func (p pageData) Menu() []navItem { return menuFor(p.User) }

// cohortsPage is the facilitator's Cohort menu item: the one cohort they run, or a list to
// choose from when they run several. An administrator, who runs every cohort, gets them all.
func (s *Server) cohortsPage(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	var run []courses.Cohort
	if u.Role == accounts.RoleAdmin {
		all, err := s.deps.Courses.Cohorts(ctx)
		if err != nil {
			return err
		}
		run = all
	} else {
		ms, err := s.deps.Courses.MembershipsOf(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.Role != accounts.RoleFacilitator {
				continue
			}
			co, err := s.deps.Courses.Cohort(ctx, m.CohortID)
			if err != nil {
				return err
			}
			run = append(run, co)
		}
	}
	if len(run) == 1 {
		return c.Redirect(http.StatusSeeOther, "/cohorts/"+run[0].ID)
	}
	return s.render(c, "cohorts", pageData{Title: "Your cohorts", Nav: "cohort", Data: run})
}
