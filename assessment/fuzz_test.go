package assessment_test

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"polyphony/assessment"
)

// fuzzRoundTrip reads src in the format and, for every question that passes the checks,
// writes it in the Markdown and GIFT formats and reads it back: it must come back the same.
// Whatever src is, nothing panics.
func fuzzRoundTrip(t *testing.T, format assessment.Format, src []byte) {
	qs, _ := assessment.Check(format, src)
	for _, in := range qs {
		q := assessment.Question{Name: in.Name, Stem: in.Stem, Options: in.Options, Explanation: in.Explanation, Tags: in.Tags}
		for _, out := range []assessment.Format{assessment.FormatMarkdown, assessment.FormatGIFT} {
			var buf bytes.Buffer
			switch out {
			case assessment.FormatMarkdown:
				assessment.WriteMarkdown(&buf, "", []assessment.Question{q})
			case assessment.FormatGIFT:
				assessment.WriteGIFT(&buf, []assessment.Question{q})
			}
			back, errs := assessment.Check(out, buf.Bytes())
			if len(errs) != 0 || len(back) != 1 {
				t.Fatalf("%s of %#v read back as %d questions, errors %v:\n%s", out, in, len(back), errs, buf.String())
			}
			if !reflect.DeepEqual(back[0], in) {
				t.Fatalf("%s round trip changed the question:\n got %#v\nwant %#v\nfile:\n%s", out, back[0], in, buf.String())
			}
		}
	}
}

func fuzzSeeds(f *testing.F) {
	format, _ := os.ReadFile("FORMAT.md")
	for _, seed := range []string{
		moodleAikenExample, moodleGIFTExamples, string(format),
		"## Q\n\n- [x] %50% of it\n  Feedback: [html] not a format\n- [ ] [markdown] b\n\nExplanation:\n[plain]\n",
		"## Q\nTags: a\n\\\\Tags: x\n- [ ] a\n\n  \\- [ ] b\n- [X] c\n",
	} {
		f.Add(seed)
	}
}

func FuzzMarkdown(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, src string) { fuzzRoundTrip(t, assessment.FormatMarkdown, []byte(src)) })
}

func FuzzGIFT(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, src string) { fuzzRoundTrip(t, assessment.FormatGIFT, []byte(src)) })
}

func FuzzAiken(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, src string) { fuzzRoundTrip(t, assessment.FormatAiken, []byte(src)) })
}
