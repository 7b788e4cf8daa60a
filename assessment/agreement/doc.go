// Package agreement works out how far two raters agree when they rate the same items on an
// ordinal scale 0..k-1, as two assessors do when both rate a dialogue transcript against the
// key elements of dialogic practice: percent agreement, Cohen's kappa and Cohen's kappa with
// quadratic weights, each with the confusion matrix it was worked from.
//
// The package is pure arithmetic: it stores nothing and decides nothing about who may read
// what. Compare works on two lists of levels; Transcripts gives the figures for each
// double-rated submission, per element (criterion) and overall; Pairs gives, across a cohort,
// each pair of raters' figures over every item they both rated, so a programme lead can see
// whose ratings drift.
//
// # Figures that do not exist
//
// Kappa divides by 1 - p_e, the agreement expected by chance. When both raters put every
// item at one and the same level, p_e is 1 and kappa has no value: not 0, not 1, and not NaN
// (which JSON cannot carry). Such a figure is a nil *float64, null in JSON, and Agreement
// says why in Undefined. With no item rated by both, every figure is nil.
//
// The sums are kept in whole numbers (counts, and squared distances for the weights) until
// the last division, so "p_e is 1" is an exact test rather than a comparison of floats.
package agreement
