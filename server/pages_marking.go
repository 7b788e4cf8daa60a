package server

func (s *Server) markingPageRoutes() {}
