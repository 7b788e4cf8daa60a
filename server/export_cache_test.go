package server

// KeepPages bounds the server's page cache at maxBytes from now on (0: no page is kept), so
// that benchmarks can serve the same request with the cache and without.
func KeepPages(s *Server, maxBytes int) {
	s.rendered = newPageCache(maxBytes)
}
