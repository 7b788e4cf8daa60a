// Package progress holds the rules for the award of the diploma and works out, from the
// stored records alone, how far each trainee has come towards them.
//
// A cohort's award rules are versioned like its programme: a change is a new version,
// inserted beside the others, and saved against the version it was made from, so that two
// administrators changing the rules at once cannot overwrite each other; an award records the
// version it was decided under. Until an administrator saves rules, the cohort has the
// standard ones, worked out from its programme (DefaultRules), as version 0.
//
// Evaluate is a pure function of the records and the time: nothing is cached, so a changed
// register, a confirmed supervision session or a submitted attempt changes the outcome on the
// next request. Each rule's result carries the evidence it counted, with a link to it.
//
// The package reads the registers and the programme (polyphony/courses), the supervision and
// practice logs (courses.Journals), the knowledge tests (polyphony/assessment) and the marked
// pieces of work through PieceResults; it decides who may see whose progress.
package progress
