package accounts

import (
	"context"
	"testing"
	"time"

	"polyphony/internal/benchpair"
	"polyphony/internal/dbtest"
)

// BenchmarkCacheSession resolves a signed-in request's cookie (FromSession, which every
// signed-in request does) with the session cache and without, in the same run:
//
//	go test -run '^$' -bench Cache ./internal/accounts/
func BenchmarkCacheSession(b *testing.B) {
	ctx := context.Background()
	db := dbtest.New(b)
	service := func(cacheFor time.Duration) *Service {
		svc, err := NewService(ctx, db, Config{
			Session:  SessionConfig{Idle: 30 * time.Minute, Absolute: 12 * time.Hour},
			Throttle: DefaultThrottle,
			CacheFor: cacheFor,
		})
		if err != nil {
			b.Fatal(err)
		}
		return svc
	}
	cached, uncached := service(time.Hour), service(-1)
	if _, err := cached.Users.Create(ctx, NewUser{Email: "bench@example.org", Name: "Bench", Role: RoleTrainee, Password: "correct horse battery"}); err != nil {
		b.Fatal(err)
	}
	_, secret, _, err := cached.Login(ctx, "bench@example.org", "correct horse battery", "", "")
	if err != nil {
		b.Fatal(err)
	}
	resolve := func(svc *Service) func() {
		return func() {
			if _, _, err := svc.FromSession(ctx, secret); err != nil {
				b.Fatal(err)
			}
		}
	}
	benchpair.Compare(b, resolve(uncached), resolve(cached))
}
