package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthz says the process is up; it touches nothing else.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether the database and the media store answer, each within two seconds.
func (s *Server) readyz(c echo.Context) error {
	checks := map[string]string{}
	status := http.StatusOK
	for name, p := range map[string]Pinger{"database": s.deps.DB, "media": s.deps.Media} {
		if p == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		err := p.Ping(ctx)
		cancel()
		if err != nil {
			checks[name] = "unreachable"
			status = http.StatusServiceUnavailable
			s.log.Warn("readiness check failed", "check", name, "err", err)
			continue
		}
		checks[name] = "ok"
	}
	return c.JSON(status, map[string]any{"ready": status == http.StatusOK, "checks": checks})
}
