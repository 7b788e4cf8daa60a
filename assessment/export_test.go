package assessment

// WithOtherInstances makes the store behave as one of several instances writing attempts,
// reading back what it could otherwise know, so that tests can run both ways on FerretDB.
func WithOtherInstances() StoreOption {
	return func(s *Store) { s.shared = true }
}
