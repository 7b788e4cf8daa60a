// Package marking is the marking of the diploma's assessed work: rubrics (versioned), assessed
// pieces set for a cohort, the trainees' submissions, the allocation of markers, marks saved
// as drafts and submitted, double marking and moderation, the moderation sample, the release
// of results to the trainees, an append-only trail of every change, and the exports for an
// exam board.
//
// The domain decides who may do what: every call a person makes takes the Actor making it
// (policy.go), and handlers only decode, call and answer.
//
// Every request reads its records by _id alone (on embedded FerretDB any other filter reads
// every document of a collection). The ids are derived from their owners:
//
//   - marking_rubrics: "<rubricID>/v000003", one insert-only document per version;
//   - marking_pieces: "<pieceID>", changed by compare-and-set on its Version;
//   - marking_submissions: "<pieceID>/<traineeID>", changed under the document's lock;
//   - marking_candidates: "<pieceID>/C0007" -> the trainee, inserted once, and the counter
//     "<pieceID>" that numbers them;
//   - marking_marks: "<submissionID>/<markerID>", one per marker, so that two markers saving at
//     once never write the same document;
//   - marking_moderation: "<submissionID>", the moderator's agreed result;
//   - marking_releases: "<submissionID>", inserted once: a result is released once, whole;
//   - marking_samples: "<pieceID>", the moderation sample;
//   - marking_trail: "<submissionID>/trail/000001"..., insert-only, and its counter
//     "<submissionID>/trail";
//   - marking_lists: list documents: "rubrics", "rubric:<id>" (versions), "pieces:<cohortID>",
//     "submissions:<pieceID>", "queue:<markerID>".
//
// Embedded FerretDB has no transactions and carries out an update as a read and a write, so
// every change that depends on a submission's state (submitting, withdrawing, allocating,
// saving and submitting marks, moderating, releasing) holds that submission's lock
// (database.DB.Serialize) from its read to its write; a release is one document inserted
// once; candidate numbers and trail entries are inserted once under their counter's lock.
// No call holds two locks at once.
package marking
