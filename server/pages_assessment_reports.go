package server

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"polyphony/assessment"
	"polyphony/internal/accounts"
	"polyphony/internal/failure"
)

// The assessors' reports: results, item analysis with its charts, and standard setting.

type usePick struct {
	Value    assessment.Pick
	Label    string
	Selected bool
}

func pickChoices(p assessment.Pick) []usePick {
	out := []usePick{{assessment.PickFirst, "First attempts", false}, {assessment.PickBest, "Best attempts", false}, {assessment.PickLast, "Last attempts", false}}
	for i := range out {
		out[i].Selected = out[i].Value == p
	}
	return out
}

type mcqResultLine struct {
	assessment.TraineeResult
	Name string
}

type resultsPageData struct {
	Assessment assessment.Assessment
	Use        assessment.Pick
	Picks      []usePick
	Results    []mcqResultLine
	Passed     int
}

func (s *Server) staffAssessment(c echo.Context) (assessment.Assessment, assessment.Pick, error) {
	if err := staffOnly(c); err != nil {
		return assessment.Assessment{}, "", err
	}
	a, err := s.deps.Assessments.Assessment(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return a, "", err
	}
	p, err := assessment.ParsePick(c.QueryParam("use"))
	return a, p, err
}

func (s *Server) resultsPage(c echo.Context) error {
	a, p, err := s.staffAssessment(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	rs, err := s.deps.Assessments.Results(ctx, actor(c), a.ID, p)
	if err != nil {
		return err
	}
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.UserID)
	}
	names, err := s.mcqUserNames(ctx, ids...)
	if err != nil {
		return err
	}
	d := resultsPageData{Assessment: a, Use: p, Picks: pickChoices(p)}
	for _, r := range rs {
		d.Results = append(d.Results, mcqResultLine{TraineeResult: r, Name: names[r.UserID]})
		if r.Passed != nil && *r.Passed {
			d.Passed++
		}
	}
	sort.SliceStable(d.Results, func(i, j int) bool { return d.Results[i].Name < d.Results[j].Name })
	return s.render(c, "assessment_results", pageData{Title: "Results: " + a.Title, Nav: "assessments", Data: d})
}

// mcqChart is a chart drawn on the server as SVG: bars with a label and a value each.
type mcqChart struct {
	ID     string
	Title  string
	Desc   string
	Width  int
	Height int
	Bars   []mcqBar
	Axis   []mcqTick
	// ZeroX and the baseline are where a bar of 0 starts.
	ZeroX, ZeroY float64
	Vertical     bool
}

type mcqBar struct {
	Label            string
	Value            string
	X, Y, W, H       float64
	LabelX, LabelY   float64
	ValueX, ValueY   float64
	ValueAnchor      string
	Negative         bool
	LabelAnchorStart bool
}

type mcqTick struct {
	Label  string
	X, Y   float64
	X2, Y2 float64
	TX, TY float64
}

// The geometry of the horizontal bar charts: a label column, then the bars.
const (
	mcqChartWidth = 640
	mcqChartLabel = 56
	mcqChartRight = 60
	mcqChartRow   = 34
	mcqChartTop   = 30
)

// mcqBars draws one horizontal bar per value, on a scale from lo to hi (lo is 0 or -1).
func mcqBars(id, title, desc string, labels []string, values []*float64, lo, hi float64) mcqChart {
	ch := mcqChart{ID: id, Title: title, Desc: desc, Width: mcqChartWidth, Height: mcqChartTop + mcqChartRow*len(values) + 10}
	span := float64(mcqChartWidth - mcqChartLabel - mcqChartRight)
	scale := func(v float64) float64 { return mcqChartLabel + (v-lo)/(hi-lo)*span }
	ch.ZeroX = scale(0)
	for _, t := range []float64{lo, (lo + hi) / 2, hi} {
		x := scale(t)
		ch.Axis = append(ch.Axis, mcqTick{Label: strconv.FormatFloat(t, 'f', -1, 64), X: x, Y: mcqChartTop - 6, X2: x, Y2: float64(ch.Height - 10), TX: x, TY: mcqChartTop - 12})
	}
	for i, v := range values {
		y := float64(mcqChartTop + mcqChartRow*i)
		b := mcqBar{Label: labels[i], LabelX: mcqChartLabel - 8, LabelY: y + 23, Y: y + 6, H: mcqChartRow - 12, Value: "n/a", ValueAnchor: "start"}
		if v != nil {
			x := scale(*v)
			b.X, b.W = min(x, ch.ZeroX), max(x, ch.ZeroX)-min(x, ch.ZeroX)
			b.Value, b.Negative = strconv.FormatFloat(*v, 'f', 2, 64), *v < 0
			b.ValueX, b.ValueY = max(x, ch.ZeroX)+6, y+23
		} else {
			b.X, b.ValueX, b.ValueY = ch.ZeroX, ch.ZeroX+6, y+23
		}
		ch.Bars = append(ch.Bars, b)
	}
	return ch
}

// histogram draws how many trainees scored each mark from 0 to max.
func mcqHistogram(id, title, desc string, marks []int, maxMark int) mcqChart {
	counts := make([]int, maxMark+1)
	top := 1
	for _, m := range marks {
		if m >= 0 && m <= maxMark {
			counts[m]++
			top = max(top, counts[m])
		}
	}
	const h, base, left = 240, 200, 40
	ch := mcqChart{ID: id, Title: title, Desc: desc, Width: mcqChartWidth, Height: h, Vertical: true, ZeroY: base}
	slot := float64(mcqChartWidth-left-10) / float64(len(counts))
	for _, t := range []int{0, top} {
		y := base - float64(t)/float64(top)*(base-20)
		ch.Axis = append(ch.Axis, mcqTick{Label: strconv.Itoa(t), X: left, Y: y, X2: mcqChartWidth - 10, Y2: y, TX: left - 6, TY: y + 4})
	}
	for m, n := range counts {
		bh := float64(n) / float64(top) * (base - 20)
		x := left + slot*float64(m)
		ch.Bars = append(ch.Bars, mcqBar{
			Label: strconv.Itoa(m), Value: strconv.Itoa(n), X: x + slot*0.15, W: slot * 0.7, Y: base - bh, H: bh,
			LabelX: x + slot/2, LabelY: base + 18, ValueX: x + slot/2, ValueY: base - bh - 6, ValueAnchor: "middle",
		})
	}
	return ch
}

type analysisItem struct {
	Number int
	assessment.ItemStats
}

type analysisPageData struct {
	Assessment       assessment.Assessment
	Use              assessment.Pick
	Picks            []usePick
	Analysis         assessment.Analysis
	ReliableAttempts int
	Items            []analysisItem
	Max              int
	Facility         mcqChart
	Discrimination   mcqChart
	Scores           mcqChart
}

func (s *Server) analysisPage(c echo.Context) error {
	a, p, err := s.staffAssessment(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	an, err := s.deps.Assessments.Analysis(ctx, actor(c), a.ID, p)
	if err != nil {
		return err
	}
	rs, err := s.deps.Assessments.Results(ctx, actor(c), a.ID, p)
	if err != nil {
		return err
	}
	d := analysisPageData{Assessment: a, Use: p, Picks: pickChoices(p), Analysis: an, Max: a.QuestionCount(), ReliableAttempts: assessment.ReliableAttempts}
	labels := make([]string, len(an.Items))
	facility := make([]*float64, len(an.Items))
	discrimination := make([]*float64, len(an.Items))
	for i, it := range an.Items {
		d.Items = append(d.Items, analysisItem{Number: i + 1, ItemStats: it})
		labels[i] = "Q" + strconv.Itoa(i+1)
		f := it.Facility
		facility[i], discrimination[i] = &f, it.Discrimination
	}
	marks := make([]int, len(rs))
	for i, r := range rs {
		marks[i] = r.Marks
		d.Max = max(d.Max, r.Max)
	}
	d.Facility = mcqBars("chart-facility", "Facility of each question", "The proportion of trainees who answered each question right, from 0 to 1; the same figures are in the table below.", labels, facility, 0, 1)
	d.Discrimination = mcqBars("chart-discrimination", "Discrimination of each question", "The proportion right in the upper group less that in the lower group, from −1 to 1; the same figures are in the table below.", labels, discrimination, -1, 1)
	d.Scores = mcqHistogram("chart-scores", "Distribution of scores", "How many trainees scored each mark; the same figures are in the table below.", marks, d.Max)
	return s.render(c, "assessment_analysis", pageData{Title: "Item analysis: " + a.Title, Nav: "assessments", Data: d})
}

type angoffRow struct {
	ID       string
	Name     string
	Estimate string
}

type judgeLine struct {
	assessment.Judge
	Name string
	Me   bool
}

type angoffPageData struct {
	Assessment assessment.Assessment
	Panel      assessment.Panel
	Rows       []angoffRow
	Judges     []judgeLine
	Mine       *assessment.Judge
	Admin      bool
	AdoptedBy  string
}

func (s *Server) angoffData(c echo.Context) (angoffPageData, error) {
	if err := staffOnly(c); err != nil {
		return angoffPageData{}, err
	}
	ctx := c.Request().Context()
	a, err := s.deps.Assessments.Assessment(ctx, actor(c), c.Param("id"))
	if err != nil {
		return angoffPageData{}, err
	}
	panel, err := s.deps.Assessments.StandardSetting(ctx, actor(c), a.ID)
	if err != nil {
		return angoffPageData{}, err
	}
	qs, err := s.deps.Assessments.Questions(ctx, actor(c), a.BankID)
	if err != nil {
		return angoffPageData{}, err
	}
	var ids []string
	if a.Adoption != nil {
		ids = append(ids, a.Adoption.AdoptedBy)
	}
	for _, j := range panel.Judges {
		ids = append(ids, j.JudgeID)
	}
	names, err := s.mcqUserNames(ctx, ids...)
	if err != nil {
		return angoffPageData{}, err
	}
	u := currentUser(c)
	d := angoffPageData{Assessment: a, Panel: panel, Admin: u.Role == accounts.RoleAdmin}
	if a.Adoption != nil {
		d.AdoptedBy = names[a.Adoption.AdoptedBy]
	}
	for _, j := range panel.Judges {
		d.Judges = append(d.Judges, judgeLine{Judge: j, Name: names[j.JudgeID], Me: j.JudgeID == u.ID})
		if j.JudgeID == u.ID {
			mine := j
			d.Mine = &mine
		}
	}
	qname := map[string]string{}
	for _, q := range qs {
		qname[q.ID] = q.Name
	}
	for _, id := range panel.Questions {
		row := angoffRow{ID: id, Name: qname[id]}
		if d.Mine != nil {
			if p, ok := d.Mine.Estimates[id]; ok {
				row.Estimate = estimateLabel(p)
			}
		}
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}

// estimateLabel shows a probability as the percentage a judge typed: 0.55 is 55, not the
// 55.00000000000001 that multiplying by 100 gives, and at most two decimal places.
func estimateLabel(p float64) string {
	return strconv.FormatFloat(math.Round(p*1e4)/100, 'f', -1, 64)
}

// groupCount shows a weighted group count: whole when it is, otherwise to two places (an
// attempt tied at a group's edge counts in part).
func groupCount(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

func (s *Server) angoffPage(c echo.Context) error {
	d, err := s.angoffData(c)
	if err != nil {
		return err
	}
	return s.render(c, "assessment_angoff", pageData{Title: "Standard setting: " + d.Assessment.Title, Nav: "assessments", Notice: c.QueryParam("done"), Data: d})
}

func (s *Server) angoffSave(c echo.Context) error {
	d, err := s.angoffData(c)
	if err != nil {
		return err
	}
	estimates := map[string]float64{}
	var errs []fieldError
	for i, row := range d.Rows {
		raw := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(c.FormValue("estimate-"+row.ID)), "%"))
		d.Rows[i].Estimate = raw
		if raw == "" {
			continue
		}
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil || v < 0 || v > 100 {
			errs = append(errs, fieldError{Field: "estimate-" + row.ID, Message: fmt.Sprintf("Enter the estimate for question %d as a percentage from 0 to 100.", i+1)})
			continue
		}
		estimates[row.ID] = v / 100
	}
	if len(errs) == 0 {
		_, err := s.deps.Assessments.SaveEstimates(c.Request().Context(), actor(c), d.Assessment.ID, estimates)
		if err == nil {
			return mcqRedirect(c, "/assessments/"+d.Assessment.ID+"/angoff", "Your estimates are saved.")
		}
		ids := map[string]string{}
		for _, row := range d.Rows {
			ids["estimates."+row.ID] = "estimate-" + row.ID
		}
		if errs, err = formErrors(err, ids); err != nil {
			return err
		}
	}
	return s.renderStatus(c, http.StatusBadRequest, "assessment_angoff", pageData{Title: "Standard setting: " + d.Assessment.Title, Nav: "assessments", Errors: errs, Data: d})
}

func (s *Server) angoffAdopt(c echo.Context) error {
	if err := staffOnly(c); err != nil {
		return err
	}
	a, err := s.deps.Assessments.AdoptPassMark(c.Request().Context(), actor(c), c.Param("id"))
	var conflict *failure.ConflictError
	if errors.As(err, &conflict) {
		return mcqRedirect(c, "/assessments/"+c.Param("id")+"/angoff", sentence(conflict.Message))
	}
	if err != nil {
		return err
	}
	return mcqRedirect(c, "/assessments/"+a.ID+"/angoff", "The pass mark is now "+percentLabel(a.PassMark)+".")
}
