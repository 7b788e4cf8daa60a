package server

// assessmentPageRoutes registers the pages of the MCQ assessment: banks, assessments,
// attempts, results and analysis.
func (s *Server) assessmentPageRoutes() {}
