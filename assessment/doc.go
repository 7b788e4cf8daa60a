// Package assessment holds the diploma's knowledge assessment: single-best-answer multiple
// choice questions (a stem and two to eight options, five by custom, exactly one best), the
// banks that keep them, their import and export (Aiken, GIFT and a Markdown format of our own,
// see FORMAT.md), assessments built from the banks, trainees' attempts with their time limits,
// the marking, the item analysis assessors read, and modified Angoff standard setting.
//
// # Who may do what
//
// Every method that reads or changes a bank, an assessment's settings, results or standard
// setting takes an Actor and refuses (failure.ErrForbidden) anyone who is not an admin or an
// assessor; adopting a pass mark is for admins alone. Trainees reach the package only through
// AssessmentInfo (what anyone may know of an assessment) and Start, SaveAnswer, Submit,
// AttemptView and MyAttempts, which take the trainee as Actor, act only on that trainee's own
// attempts, and answer with an AttemptView: the one shape sent to trainees, built by one
// function (traineeView) that adds the score, the right answers and the feedback only when
// the assessment's review options allow them. Whether a trainee belongs to an assessment's
// cohort is for the HTTP layer to check before Start.
//
// # How the records stay right on FerretDB
//
// Embedded FerretDB carries out an update as a read and a write with nothing held between
// them, but an insert under a unique _id is atomic; and it finds a document by _id by reading
// the collection until it meets it, so a lookup of a missing _id reads every document. So
// everything contended is an insert of a deterministic _id, nothing is decided by an update,
// and the trainees' paths avoid reads:
//
//   - question_revisions: "questionID/revision"; saving revision n+1 is one insert, so of
//     two editors working on revision n exactly one wins. assessment_versions likewise.
//   - attempts: "assessmentID-userID-n"; attempt n+1 is inserted only once attempt n is
//     closed, so two starts at once give one attempt and a second start returns the open one.
//     An attempt never changes: it pins the question revisions (through its paper, the
//     revisions named by their hash and shared by the attempts made from them) and records
//     the order of the questions and of each question's options.
//   - attempt_answers: "attemptID/n"; each save inserts the attempt's whole set of answers as
//     snapshot n+1, so the answers' history stays and two saves cannot overwrite each other.
//   - attempt_closes and attempt_results: "attemptID"; closing inserts the close and then the
//     one result, so fifty submits at once store one mark and the others read it back.
//   - open_attempts: the attempts with a deadline, for Sweep to close when it passes.
//   - assessment_lists: list documents naming the records of an owner by _id (the banks,
//     the versions, a bank's revisions, an assessment's attempts and judges), so that no
//     request reads by any other filter (lists.go).
//
// Inserts queue in the store and go to the database many to a transaction (writer.go): a
// burst of submissions at a deadline costs a few transactions, not hundreds of writers
// waiting in SQLite's busy handler.
//
// On FerretDB the store takes itself for the only instance writing attempts, since on an
// embedded database only the server writes them (the command line writes people and
// cohorts, never attempts). It then
// keeps what it knows of open attempts in memory (their answers; that they are open) and
// reads the database only for attempts it has not seen since it started: saving an answer
// and submitting read nothing. On MongoDB, where several instances may serve the same
// trainee, it reads back what another could have written: closing stores the close before
// reading the answers, and saving an answer looks for a close after storing the answer, so an
// answer is acknowledged only if the marking will read it.
package assessment
