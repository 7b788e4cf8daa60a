package server

// journalAPIRoutes registers the JSON API of journals, their media, sharing and comments,
// and the supervision and practice logs.
func (s *Server) journalAPIRoutes() {}
