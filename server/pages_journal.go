package server

// journalPageRoutes registers the pages of journals, supervision and practice.
func (s *Server) journalPageRoutes() {}
