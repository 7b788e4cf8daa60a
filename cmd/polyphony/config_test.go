package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"polyphony/internal/mail"
)

// configFrom resolves the settings from a command line and an environment, as run does.
func configFrom(t *testing.T, args []string, env map[string]string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	flags := settingFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return loadConfig(flags, envFrom(env))
}

func TestConfigDefaults(t *testing.T) {
	c, err := configFrom(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Addr", c.Addr, "127.0.0.1:8080"},
		{"PublicURL", c.PublicURL.String(), "http://127.0.0.1:8080"},
		{"Data", c.Data, "./data"},
		{"DBDir", c.DBDir(), filepath.Join("data", "db")},
		{"MediaDir", c.MediaDir(), filepath.Join("data", "media")},
		{"MongoListen", c.MongoListen, "127.0.0.1:0"},
		{"MongoURI", c.MongoURI, ""},
		{"MongoDatabase", c.MongoDatabase, "polyphony"},
		{"MinIOEndpoint", c.MinIOEndpoint, ""},
		{"MinIOBucket", c.MinIOBucket, "polyphony"},
		{"MinIOSecure", c.MinIOSecure, false},
		{"SMTPHost", c.SMTPHost, ""},
		{"SMTPPort", c.SMTPPort, 587},
		{"SMTPTLS", c.SMTPTLS, mail.STARTTLS},
		{"MailFrom", c.MailFrom, ""},
		{"MediaSecret", c.MediaSecret, ""},
		{"SessionIdle", c.SessionIdle, 30 * time.Minute},
		{"SessionAbsolute", c.SessionAbsolute, 12 * time.Hour},
		{"LimitAccount", c.LimitAccount, 10},
		{"LimitIP", c.LimitIP, 100},
		{"LoginWindow", c.LoginWindow, 15 * time.Minute},
		{"ClientIP", c.ClientIP, "direct"},
		{"TrustedProxies", len(c.TrustedProxies), 0},
		{"TLSCert", c.TLSCert, ""},
		{"ShutdownTimeout", c.ShutdownTimeout, 15 * time.Second},
		{"BodyTimeout", c.BodyTimeout, 30 * time.Second},
		{"UploadMinRate", c.UploadMinRate, int64(4000)},
		{"MaxConnsPerClient", c.MaxConnsPerClient, 256},
		{"LogLevel", c.LogLevel.String(), "INFO"},
		{"LogFormat", c.LogFormat, "text"},
		{"Fonts", c.Fonts, "https://assets.nhs.uk/fonts/"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("default %s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestConfigFlagBeatsEnvironmentBeatsDefault(t *testing.T) {
	env := map[string]string{
		"POLYPHONY_ADDR":            "127.0.0.1:9000",
		"POLYPHONY_SESSION_IDLE":    "5m",
		"POLYPHONY_LOGIN_WINDOW":    "1h",
		"POLYPHONY_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.0.0/16",
		"POLYPHONY_CLIENT_IP":       "x-real-ip",
		"MINIO_SECURE":              "true",
	}
	env["POLYPHONY_UPLOAD_MIN_KBPS"] = "16"
	c, err := configFrom(t, []string{"--addr", "127.0.0.1:9001", "--session-idle", "45m", "--public-url", "https://polyphony.example/",
		"--body-timeout", "10s", "--max-conns-per-ip", "40"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9001" {
		t.Errorf("addr = %q, want the flag's 127.0.0.1:9001 over the environment's", c.Addr)
	}
	if c.SessionIdle != 45*time.Minute {
		t.Errorf("session-idle = %s, want the flag's 45m", c.SessionIdle)
	}
	if c.LoginWindow != time.Hour {
		t.Errorf("login-window = %s, want the environment's 1h", c.LoginWindow)
	}
	if c.ClientIP != "x-real-ip" || !c.MinIOSecure {
		t.Errorf("client-ip %q, minio-secure %v: want the environment's x-real-ip, true", c.ClientIP, c.MinIOSecure)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[1].String() != "192.168.0.0/16" {
		t.Errorf("trusted-proxies = %v, want both ranges from the environment", c.TrustedProxies)
	}
	if c.PublicURL.String() != "https://polyphony.example" {
		t.Errorf("public-url = %q, want https://polyphony.example (no trailing slash)", c.PublicURL)
	}
	if c.SessionAbsolute != 12*time.Hour {
		t.Errorf("session-absolute = %s, want the default 12h", c.SessionAbsolute)
	}
	if c.BodyTimeout != 10*time.Second || c.MaxConnsPerClient != 40 || c.UploadMinRate != 16_000 {
		t.Errorf("body-timeout %s, max-conns-per-ip %d, upload-min-kbps %d B/s: want the flags' 10s and 40, the environment's 16 kB/s", c.BodyTimeout, c.MaxConnsPerClient, c.UploadMinRate)
	}

	// With no flag, the environment wins over the default; an empty flag does not count.
	c, err = configFrom(t, []string{"--addr", ""}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.SessionIdle != 5*time.Minute {
		t.Errorf("addr %q, session-idle %s: want the environment's 127.0.0.1:9000 and 5m", c.Addr, c.SessionIdle)
	}
	if c.PublicURL.String() != "http://127.0.0.1:9000" {
		t.Errorf("public-url = %q, want it made from the address", c.PublicURL)
	}

	// A closed network serves no web font, or the font from a folder of its own.
	for v, want := range map[string]string{"none": "", "NONE": "", "nhsuk": "https://assets.nhs.uk/fonts/", "https://fonts.trust.example/nhs/": "https://fonts.trust.example/nhs/"} {
		c, err = configFrom(t, []string{"--fonts", v}, nil)
		if err != nil {
			t.Fatalf("--fonts %s: %v", v, err)
		}
		if c.Fonts != want {
			t.Errorf("--fonts %s: Fonts = %q, want %q", v, c.Fonts, want)
		}
	}
}

// The SMTP settings come from flags and the environment like the others; the port follows
// the TLS mode unless given, and plain text is allowed to a loopback host.
func TestConfigMailSettings(t *testing.T) {
	env := map[string]string{"POLYPHONY_SMTP_HOST": "smtp.trust.example", "POLYPHONY_SMTP_TLS": "tls",
		"POLYPHONY_SMTP_USER": "polyphony", "POLYPHONY_SMTP_PASSWORD": "pw", "POLYPHONY_MAIL_FROM": "Polyphony <polyphony@trust.example>"}
	c, err := configFrom(t, []string{"--mail-reply-to", "programme@trust.example"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPHost != "smtp.trust.example" || c.SMTPTLS != mail.ImplicitTLS || c.SMTPPort != 465 || c.SMTPUser != "polyphony" ||
		c.SMTPPassword != "pw" || c.MailFrom != "Polyphony <polyphony@trust.example>" || c.MailReplyTo != "programme@trust.example" {
		t.Errorf("SMTP settings from the environment and a flag: %+v", c)
	}
	mc := c.mailConfig(nil)
	if mc.Host != c.SMTPHost || mc.Port != 465 || mc.TLS != mail.ImplicitTLS || mc.PublicURL != "http://127.0.0.1:8080" {
		t.Errorf("mail config %+v", mc)
	}
	c, err = configFrom(t, []string{"--smtp-host", "127.0.0.1", "--smtp-tls", "NONE", "--smtp-port", "2525", "--mail-from", "p@localhost"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPTLS != mail.NoTLS || c.SMTPPort != 2525 {
		t.Errorf("--smtp-tls none --smtp-port 2525: %s %d", c.SMTPTLS, c.SMTPPort)
	}
	r := runIn(t, env, "", "config")
	if r.code != 0 || strings.Contains(r.stdout, "pw ") {
		t.Fatalf("config: %v", r)
	}
	if row := configRows(t, r.stdout)["--smtp-password"]; row[1] != "(set, hidden)" || row[2] != "environment" {
		t.Errorf("config --smtp-password row %v, want it hidden", row)
	}
}

// Each bad value stops the program with exit 2 and one line that names the setting.
func TestConfigBadValues(t *testing.T) {
	cert := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(cert, []byte("not read by loadConfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want []string // every one must be in the line
	}{
		{args: []string{"--session-idle", "abc"}, want: []string{"--session-idle", "POLYPHONY_SESSION_IDLE", `"abc"`}},
		{args: []string{"--session-idle", "0s"}, want: []string{"--session-idle"}},
		{args: []string{"--session-idle", "13h"}, want: []string{"--session-idle", "--session-absolute"}},
		{args: []string{"--session-absolute", "-1h"}, want: []string{"--session-absolute"}},
		{args: []string{"--login-window", "soon"}, want: []string{"--login-window"}},
		{args: []string{"--shutdown-timeout", "15"}, want: []string{"--shutdown-timeout"}},
		{env: map[string]string{"POLYPHONY_ADDR": "nonsense"}, want: []string{"--addr", "POLYPHONY_ADDR", `"nonsense"`}},
		{args: []string{"--addr", "127.0.0.1:"}, want: []string{"--addr"}},
		{args: []string{"--mongo-listen", "0.0.0.0:1"}, want: []string{"--mongo-listen", "loopback"}},
		{args: []string{"--mongo-listen", ":0"}, want: []string{"--mongo-listen", "loopback"}},
		{args: []string{"--mongo-listen", "10.1.2.3:27017"}, want: []string{"--mongo-listen", "loopback"}},
		{args: []string{"--mongo-listen", "nonsense"}, want: []string{"--mongo-listen"}},
		{args: []string{"--client-ip", "foo"}, want: []string{"--client-ip", `"foo"`}},
		{args: []string{"--trusted-proxies", "10.0.0.0/99"}, want: []string{"--trusted-proxies", "10.0.0.0/99"}},
		{args: []string{"--trusted-proxies", "10.0.0.0/8,nonsense"}, want: []string{"--trusted-proxies", `"nonsense"`}},
		{args: []string{"--minio-endpoint", "127.0.0.1:9000"}, want: []string{"--minio-access-key", "MINIO_ACCESS_KEY"}},
		{args: []string{"--minio-endpoint", "127.0.0.1:9000", "--minio-secret-key", "sk"}, want: []string{"--minio-access-key", "MINIO_ACCESS_KEY"}},
		{args: []string{"--minio-endpoint", "127.0.0.1:9000", "--minio-access-key", "ak"}, want: []string{"MINIO_SECRET_KEY"}},
		{args: []string{"--minio-endpoint", "http://127.0.0.1:9000", "--minio-access-key", "a", "--minio-secret-key", "b"}, want: []string{"--minio-endpoint"}},
		{args: []string{"--minio-secure", "maybe"}, want: []string{"--minio-secure"}},
		{args: []string{"--smtp-tls", "ssl"}, want: []string{"--smtp-tls", "POLYPHONY_SMTP_TLS", `"ssl"`}},
		{args: []string{"--smtp-port", "70000"}, want: []string{"--smtp-port", "POLYPHONY_SMTP_PORT"}},
		{env: map[string]string{"POLYPHONY_SMTP_HOST": "smtp.trust.example"}, want: []string{"--mail-from", "POLYPHONY_MAIL_FROM"}},
		{args: []string{"--smtp-host", "smtp.trust.example:587", "--mail-from", "p@trust.example"}, want: []string{"--smtp-host", "--smtp-port"}},
		{args: []string{"--smtp-host", "smtp.trust.example", "--smtp-tls", "none", "--mail-from", "p@trust.example"}, want: []string{"--smtp-tls", "loopback"}},
		{args: []string{"--smtp-host", "smtp.trust.example", "--smtp-user", "u", "--mail-from", "p@trust.example"}, want: []string{"--smtp-password", "POLYPHONY_SMTP_PASSWORD"}},
		{args: []string{"--smtp-host", "smtp.trust.example", "--smtp-password", "secretpw", "--mail-from", "p@trust.example"}, want: []string{"--smtp-user"}},
		{args: []string{"--smtp-host", "smtp.trust.example", "--mail-from", "polyphony at trust"}, want: []string{"--mail-from", `"polyphony at trust"`}},
		{args: []string{"--smtp-host", "smtp.trust.example", "--mail-from", "p@trust.example", "--mail-reply-to", "nobody"}, want: []string{"--mail-reply-to"}},
		{args: []string{"--public-url", "ftp://x"}, want: []string{"--public-url", `"ftp://x"`}},
		{args: []string{"--public-url", "https://polyphony.example/app"}, want: []string{"--public-url"}},
		{args: []string{"--public-url", "polyphony.example"}, want: []string{"--public-url"}},
		{args: []string{"--public-url", "http://x.example?y=1"}, want: []string{"--public-url"}},
		{args: []string{"--public-url", "http://x.example#f"}, want: []string{"--public-url"}},
		{env: map[string]string{"MONGODB_URI": "postgres://u:secretpw@h/"}, want: []string{"--mongodb-uri", "MONGODB_URI"}},
		{args: []string{"--mongodb-database", "a.b"}, want: []string{"--mongodb-database"}},
		{args: []string{"--media-secret", "short"}, want: []string{"--media-secret", "32"}},
		{args: []string{"--login-limit-account", "0"}, want: []string{"--login-limit-account"}},
		{env: map[string]string{"POLYPHONY_LOGIN_LIMIT_IP": "many"}, want: []string{"--login-limit-ip", "POLYPHONY_LOGIN_LIMIT_IP"}},
		{args: []string{"--tls-cert", cert}, want: []string{"--tls-key"}},
		{args: []string{"--tls-cert", cert, "--tls-key", filepath.Join(t.TempDir(), "missing.pem")}, want: []string{"--tls-key", "missing.pem"}},
		{args: []string{"--body-timeout", "30"}, want: []string{"--body-timeout", "POLYPHONY_BODY_TIMEOUT"}},
		{args: []string{"--upload-min-kbps", "0"}, want: []string{"--upload-min-kbps", "POLYPHONY_UPLOAD_MIN_KBPS"}},
		{env: map[string]string{"POLYPHONY_MAX_CONNS_PER_IP": "lots"}, want: []string{"--max-conns-per-ip", `"lots"`}},
		{args: []string{"--log-level", "loud"}, want: []string{"--log-level"}},
		{args: []string{"--log-format", "xml"}, want: []string{"--log-format"}},
		{args: []string{"--fonts", "frutiger"}, want: []string{"--fonts", "POLYPHONY_FONTS", `"frutiger"`}},
		{env: map[string]string{"POLYPHONY_FONTS": "fonts.trust.example"}, want: []string{"--fonts", "POLYPHONY_FONTS"}},
	} {
		args := append([]string{"config"}, tc.args...)
		r := runIn(t, tc.env, "", args...)
		line := strings.TrimSuffix(r.stderr, "\n")
		if r.code != 2 || r.stdout != "" || line == "" || strings.Contains(line, "\n") {
			t.Errorf("polyphony %v with %v: want exit 2, nothing on stdout and one line on stderr; got %v", args, tc.env, r)
			continue
		}
		if !strings.HasPrefix(line, "polyphony: setting --") {
			t.Errorf("polyphony %v with %v: line %q does not start by naming the setting", args, tc.env, line)
		}
		for _, w := range tc.want {
			if !strings.Contains(line, w) {
				t.Errorf("polyphony %v with %v: line %q does not mention %s", args, tc.env, line, w)
			}
		}
		if strings.Contains(line, "secretpw") {
			t.Errorf("polyphony %v: line %q shows the password", args, line)
		}
	}
}

// A bad setting stops every command before it touches anything: serve makes no data folder.
func TestBadSettingStopsServeBeforeStarting(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	r := runIn(t, nil, "", "serve", "--data", data, "--addr", "127.0.0.1:0", "--client-ip", "foo")
	if r.code != 2 || !strings.Contains(r.stderr, "--client-ip") {
		t.Fatalf("serve with a bad --client-ip: want exit 2 naming it; got %v", r)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("serve with a bad setting made %s (stat: %v)", data, err)
	}
}

// configRows reads `polyphony config` output into setting → [environment, value, from].
func configRows(t *testing.T, out string) map[string][3]string {
	t.Helper()
	rows := map[string][3]string{}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "SETTING") {
		t.Fatalf("config output has no header:\n%s", out)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 4 {
			t.Fatalf("config row %q has fewer than four columns", l)
		}
		rows[f[0]] = [3]string{f[1], strings.Join(f[2:len(f)-1], " "), f[len(f)-1]}
	}
	return rows
}

func TestConfigCommandHidesSecretsAndSaysWhereEachValueCameFrom(t *testing.T) {
	env := map[string]string{
		"MONGODB_URI":      "mongodb://u:secretpw@h/",
		"MINIO_ENDPOINT":   "127.0.0.1:9000",
		"MINIO_ACCESS_KEY": "accesskey",
		"MINIO_SECRET_KEY": "minio-secret-value",
		"POLYPHONY_ADDR":   "127.0.0.1:9000",
		"POLYPHONY_DATA":   "/srv/polyphony",
	}
	r := runIn(t, env, "", "config", "--addr", "127.0.0.1:9001", "--media-secret", "media-secret-value-0123456789abcdef", "--log-level", "debug")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("config: %v", r)
	}
	for _, secret := range []string{"secretpw", "minio-secret-value", "media-secret-value"} {
		if strings.Contains(r.stdout, secret) {
			t.Errorf("config printed the secret %q:\n%s", secret, r.stdout)
		}
	}
	rows := configRows(t, r.stdout)
	if len(rows) != len(settings) {
		t.Errorf("config printed %d settings, want all %d", len(rows), len(settings))
	}
	for _, s := range settings {
		if row, ok := rows["--"+s.flag]; !ok || row[0] != s.env {
			t.Errorf("config row for --%s = %v, want it with %s", s.flag, row, s.env)
		}
	}
	want := map[string][2]string{ // value, from
		"--addr":             {"127.0.0.1:9001", "flag"},
		"--public-url":       {"http://127.0.0.1:9001", "default"},
		"--data":             {"/srv/polyphony", "environment"},
		"--mongodb-uri":      {"mongodb://u:xxxxx@h/", "environment"},
		"--mongodb-database": {"polyphony", "default"},
		"--minio-endpoint":   {"127.0.0.1:9000", "environment"},
		"--minio-access-key": {"accesskey", "environment"},
		"--minio-secret-key": {"(set, hidden)", "environment"},
		"--media-secret":     {"(set, hidden)", "flag"},
		"--trusted-proxies":  {"(not set)", "default"},
		"--session-idle":     {"30m", "default"},
		"--log-level":        {"debug", "flag"},
	}
	for name, w := range want {
		row := rows[name]
		if row[1] != w[0] || row[2] != w[1] {
			t.Errorf("config %s: value %q from %q, want %q from %q", name, row[1], row[2], w[0], w[1])
		}
	}

	// The connection string's password is hidden when it comes as a flag, too.
	r = runIn(t, nil, "", "config", "--mongodb-uri", "mongodb://admin:secretpw@db.example:27017/polyphony?authSource=admin")
	if r.code != 0 || strings.Contains(r.stdout, "secretpw") {
		t.Fatalf("config --mongodb-uri: want exit 0 without the password; got %v", r)
	}
	if row := configRows(t, r.stdout)["--mongodb-uri"]; row[1] != "mongodb://admin:xxxxx@db.example:27017/polyphony?authSource=admin" || row[2] != "flag" {
		t.Errorf("config --mongodb-uri row = %v", row)
	}
}
