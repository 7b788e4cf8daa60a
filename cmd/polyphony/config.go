package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"polyphony/content/media"
	"polyphony/internal/database"
	"polyphony/internal/mail"
	"polyphony/server"
)

// setting is one configuration value: a flag, an environment variable and a default.
type setting struct {
	flag, env, def, help string
	secret               bool
}

// settings lists every configuration value, in the order `polyphony config` prints them.
var settings = []setting{
	{"addr", "POLYPHONY_ADDR", "127.0.0.1:8080", "address the web server listens on", false},
	{"public-url", "POLYPHONY_PUBLIC_URL", "", "address people open (default http://<addr>); https turns on Secure cookies and HSTS", false},
	{"fonts", "POLYPHONY_FONTS", "nhsuk", "where pages load the NHS.UK font from: nhsuk (assets.nhs.uk), none (the machine's own fonts; nothing is asked of another site), or the http(s) address of a folder holding the same font files", false},
	{"data", "POLYPHONY_DATA", "./data", "folder for the embedded database (<data>/db) and local media (<data>/media)", false},
	{"mongo-listen", "POLYPHONY_MONGO_LISTEN", "127.0.0.1:0", "loopback address of the embedded database's MongoDB-wire listener (port 0: any free port)", false},
	{"mongodb-uri", "MONGODB_URI", "", "MongoDB server to use instead of the embedded one", true},
	{"mongodb-database", "POLYPHONY_MONGODB_DATABASE", "polyphony", "database name", false},
	{"minio-endpoint", "MINIO_ENDPOINT", "", "MinIO/S3 host:port; when set, media is stored there instead of <data>/media", false},
	{"minio-access-key", "MINIO_ACCESS_KEY", "", "MinIO access key", false},
	{"minio-secret-key", "MINIO_SECRET_KEY", "", "MinIO secret key", true},
	{"minio-bucket", "MINIO_BUCKET", "polyphony", "MinIO bucket (created if missing)", false},
	{"minio-secure", "MINIO_SECURE", "false", "use TLS to reach MinIO", false},
	{"nats-url", "NATS_URL", "", "NATS server with JetStream (nats://host:4222); when set, every instance using it shares the dialogue rooms", true},
	{"smtp-host", "POLYPHONY_SMTP_HOST", "", "SMTP server that sends the emails; when not set, each email is written to the log in full instead", false},
	{"smtp-port", "POLYPHONY_SMTP_PORT", "", "the SMTP server's port (default 587 with starttls, 465 with tls, 25 with none)", false},
	{"smtp-tls", "POLYPHONY_SMTP_TLS", "starttls", "how the connection to the SMTP server is protected: starttls, tls (TLS from the start) or none (plain text, to a loopback host only)", false},
	{"smtp-user", "POLYPHONY_SMTP_USER", "", "user to sign in to the SMTP server as (not set: no sign-in)", false},
	{"smtp-password", "POLYPHONY_SMTP_PASSWORD", "", "password for --smtp-user", true},
	{"mail-from", "POLYPHONY_MAIL_FROM", "", "sender of the emails, an address or \"Name <address>\"; required with --smtp-host", false},
	{"mail-reply-to", "POLYPHONY_MAIL_REPLY_TO", "", "address replies to the emails go to (not set: the sender)", false},
	{"media-secret", "POLYPHONY_MEDIA_SECRET", "", "key that signs local media URLs (default: generated once and kept in the database)", true},
	{"session-idle", "POLYPHONY_SESSION_IDLE", "30m", "a session ends after this long without use", false},
	{"session-absolute", "POLYPHONY_SESSION_ABSOLUTE", "12h", "a session ends this long after sign-in, however used", false},
	{"login-limit-account", "POLYPHONY_LOGIN_LIMIT_ACCOUNT", "10", "failed sign-ins allowed per account per window", false},
	{"login-limit-ip", "POLYPHONY_LOGIN_LIMIT_IP", "100", "failed sign-ins allowed per client address per window", false},
	{"login-window", "POLYPHONY_LOGIN_WINDOW", "15m", "window for the sign-in limits", false},
	{"client-ip", "POLYPHONY_CLIENT_IP", "direct", "where the client address comes from: direct, x-forwarded-for or x-real-ip", false},
	{"trusted-proxies", "POLYPHONY_TRUSTED_PROXIES", "", "comma-separated CIDR ranges of proxies whose forwarding headers are believed", false},
	{"tls-cert", "POLYPHONY_TLS_CERT", "", "TLS certificate file, to serve HTTPS directly", false},
	{"tls-key", "POLYPHONY_TLS_KEY", "", "TLS key file", false},
	{"max-video-mb", "POLYPHONY_MAX_VIDEO_MB", "500", "largest video a journal upload may be, in megabytes", false},
	{"max-audio-mb", "POLYPHONY_MAX_AUDIO_MB", "50", "largest audio recording a journal upload may be, in megabytes", false},
	{"max-image-mb", "POLYPHONY_MAX_IMAGE_MB", "20", "largest picture a journal upload may be, in megabytes", false},
	{"body-timeout", "POLYPHONY_BODY_TIMEOUT", "30s", "how long a request's body may take to arrive, and the longest an upload may pause", false},
	{"upload-min-kbps", "POLYPHONY_UPLOAD_MIN_KBPS", "4", "slowest average an upload may arrive at, in kilobytes a second", false},
	{"max-conns-per-ip", "POLYPHONY_MAX_CONNS_PER_IP", "256", "connections open at once from one client address (trusted proxies not counted)", false},
	{"shutdown-timeout", "POLYPHONY_SHUTDOWN_TIMEOUT", "15s", "how long requests in flight may take to finish on SIGTERM", false},
	{"sso-issuer", "POLYPHONY_SSO_ISSUER", "", "issuer URL of the organisation's OpenID Connect provider (for Entra ID, https://login.microsoftonline.com/<tenant>/v2.0); when set, people may sign in with their organisation account", false},
	{"sso-client-id", "POLYPHONY_SSO_CLIENT_ID", "", "Polyphony's client (application) id at the provider", false},
	{"sso-client-secret", "POLYPHONY_SSO_CLIENT_SECRET", "", "Polyphony's client secret at the provider", true},
	{"sso-domains", "POLYPHONY_SSO_DOMAINS", "", "comma-separated email domains the provider covers (nhs.net); an address outside them is refused (empty: any)", false},
	{"sso-passwords-off", "POLYPHONY_SSO_PASSWORDS_OFF", "false", "refuse passwords for addresses in --sso-domains, who must sign in with their organisation account", false},
	{"log-level", "POLYPHONY_LOG_LEVEL", "info", "debug, info, warn or error", false},
	{"log-format", "POLYPHONY_LOG_FORMAT", "text", "text or json", false},
}

// Config is the checked configuration.
type Config struct {
	Addr            string
	PublicURL       *url.URL
	Data            string
	MongoListen     string
	MongoURI        string
	MongoDatabase   string
	MinIOEndpoint   string
	MinIOAccessKey  string
	MinIOSecretKey  string
	MinIOBucket     string
	MinIOSecure     bool
	NATSURL         string
	MediaSecret     string
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	LimitAccount    int
	LimitIP         int
	LoginWindow     time.Duration
	ClientIP        string
	TrustedProxies  []*net.IPNet
	TLSCert         string
	TLSKey          string
	ShutdownTimeout time.Duration
	// BodyTimeout, UploadMinRate (bytes a second) and MaxConnsPerClient bound slow clients.
	BodyTimeout       time.Duration
	UploadMinRate     int64
	MaxConnsPerClient int
	LogLevel          slog.Level
	LogFormat         string
	// UploadLimits caps each kind of journal media upload, in bytes.
	UploadLimits media.Limits
	// Fonts is the folder of the NHS.UK font files, or "" for none (see server.Config).
	Fonts string
	// SSO is the organisation's OpenID provider; SSOIssuer "" is none.
	SSOIssuer       string
	SSOClientID     string
	SSOClientSecret string
	SSODomains      []string
	SSOPasswordsOff bool
	// SMTPHost is where emails go; "" writes each one to the log instead. SMTPPort is set
	// from the TLS mode when not given.
	SMTPHost     string
	SMTPPort     int
	SMTPTLS      mail.TLSMode
	SMTPUser     string
	SMTPPassword string
	MailFrom     string
	MailReplyTo  string

	raw map[string]string
}

// settingFlags adds every setting to fs and returns the raw values they will hold.
func settingFlags(fs *flag.FlagSet) map[string]*string {
	vals := map[string]*string{}
	for _, s := range settings {
		vals[s.flag] = fs.String(s.flag, "", fmt.Sprintf("%s (env %s, default %q)", s.help, s.env, s.def))
	}
	return vals
}

// settingError is the one line start-up prints for a bad value.
func settingError(name, format string, args ...any) error {
	for _, s := range settings {
		if s.flag == name {
			return fmt.Errorf("setting --%s (%s): %s", s.flag, s.env, fmt.Sprintf(format, args...))
		}
	}
	return fmt.Errorf("setting --%s: %s", name, fmt.Sprintf(format, args...))
}

// loadConfig resolves each setting: flag, then environment, then default, and checks it.
func loadConfig(flags map[string]*string, getenv func(string) string) (*Config, error) {
	raw := map[string]string{}
	for _, s := range settings {
		v := s.def
		if e := getenv(s.env); e != "" {
			v = e
		}
		if f := flags[s.flag]; f != nil && *f != "" {
			v = *f
		}
		raw[s.flag] = strings.TrimSpace(v)
	}
	c := &Config{raw: raw, Addr: raw["addr"], Data: raw["data"], MongoURI: raw["mongodb-uri"],
		MongoDatabase: raw["mongodb-database"], MinIOEndpoint: raw["minio-endpoint"],
		MinIOAccessKey: raw["minio-access-key"], MinIOSecretKey: raw["minio-secret-key"],
		MinIOBucket: raw["minio-bucket"], MediaSecret: raw["media-secret"], ClientIP: raw["client-ip"],
		TLSCert: raw["tls-cert"], TLSKey: raw["tls-key"], LogFormat: raw["log-format"], MongoListen: raw["mongo-listen"], NATSURL: raw["nats-url"],
		SMTPHost: raw["smtp-host"], SMTPUser: raw["smtp-user"], SMTPPassword: raw["smtp-password"], MailFrom: raw["mail-from"], MailReplyTo: raw["mail-reply-to"]}

	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		return nil, settingError("addr", "%q is not a host:port address", c.Addr)
	}
	if host, _, err := net.SplitHostPort(c.MongoListen); err != nil {
		return nil, settingError("mongo-listen", "%q is not a host:port address", c.MongoListen)
	} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, settingError("mongo-listen", "%q is not a loopback address; the embedded database has no password, so it listens on 127.0.0.1 or ::1 only", c.MongoListen)
	}
	if c.Data == "" {
		return nil, settingError("data", "must name a folder")
	}
	pub := raw["public-url"]
	if pub == "" {
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		pub = scheme + "://" + c.Addr
	}
	u, err := url.Parse(pub)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, settingError("public-url", "%q is not an http(s)://host[:port] address", pub)
	}
	u.Path = ""
	c.PublicURL = u
	if c.Fonts, err = fontFolder(raw["fonts"]); err != nil {
		return nil, err
	}
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		return nil, settingError("mongodb-uri", "must start with mongodb:// or mongodb+srv://")
	}
	if c.MongoDatabase == "" || strings.ContainsAny(c.MongoDatabase, "/\\. \"$") {
		return nil, settingError("mongodb-database", "%q is not a usable database name", c.MongoDatabase)
	}
	if c.MinIOEndpoint != "" {
		if strings.Contains(c.MinIOEndpoint, "://") {
			return nil, settingError("minio-endpoint", "give host:port without a scheme (use --minio-secure for TLS)")
		}
		if c.MinIOAccessKey == "" {
			return nil, settingError("minio-access-key", "is required when --minio-endpoint is set")
		}
		if c.MinIOSecretKey == "" {
			return nil, settingError("minio-secret-key", "is required when --minio-endpoint is set")
		}
		if c.MinIOBucket == "" {
			return nil, settingError("minio-bucket", "must name a bucket")
		}
	}
	if c.MinIOSecure, err = strconv.ParseBool(raw["minio-secure"]); err != nil {
		return nil, settingError("minio-secure", "%q is not true or false", raw["minio-secure"])
	}
	if err := c.loadMail(raw); err != nil {
		return nil, err
	}
	if c.MediaSecret != "" && len(c.MediaSecret) < 32 {
		return nil, settingError("media-secret", "must be at least 32 characters")
	}
	durations := []struct {
		name string
		dst  *time.Duration
	}{{"session-idle", &c.SessionIdle}, {"session-absolute", &c.SessionAbsolute}, {"login-window", &c.LoginWindow}, {"shutdown-timeout", &c.ShutdownTimeout}, {"body-timeout", &c.BodyTimeout}}
	for _, d := range durations {
		v, err := time.ParseDuration(raw[d.name])
		if err != nil || v <= 0 {
			return nil, settingError(d.name, "%q is not a positive duration such as 30m or 12h", raw[d.name])
		}
		*d.dst = v
	}
	if c.SessionIdle > c.SessionAbsolute {
		return nil, settingError("session-idle", "must not be longer than --session-absolute (%s)", c.SessionAbsolute)
	}
	ints := []struct {
		name string
		dst  *int
	}{{"login-limit-account", &c.LimitAccount}, {"login-limit-ip", &c.LimitIP}, {"max-conns-per-ip", &c.MaxConnsPerClient}}
	for _, n := range ints {
		v, err := strconv.Atoi(raw[n.name])
		if err != nil || v < 1 {
			return nil, settingError(n.name, "%q is not a whole number of 1 or more", raw[n.name])
		}
		*n.dst = v
	}
	uploads := []struct {
		name string
		dst  *int64
	}{{"max-video-mb", &c.UploadLimits.Video}, {"max-audio-mb", &c.UploadLimits.Audio}, {"max-image-mb", &c.UploadLimits.Image}}
	for _, u := range uploads {
		v, err := strconv.ParseInt(raw[u.name], 10, 64)
		if err != nil || v < 1 || v > 100_000 {
			return nil, settingError(u.name, "%q is not a whole number of megabytes from 1 to 100000", raw[u.name])
		}
		*u.dst = v * media.MB
	}
	kbps, err := strconv.ParseInt(raw["upload-min-kbps"], 10, 64)
	if err != nil || kbps < 1 || kbps > 1_000_000 {
		return nil, settingError("upload-min-kbps", "%q is not a whole number of kilobytes a second from 1 to 1000000", raw["upload-min-kbps"])
	}
	c.UploadMinRate = kbps * 1000
	switch c.ClientIP {
	case "direct", "x-forwarded-for", "x-real-ip":
	default:
		return nil, settingError("client-ip", "%q is not one of direct, x-forwarded-for, x-real-ip", c.ClientIP)
	}
	for _, cidr := range strings.Split(raw["trusted-proxies"], ",") {
		if cidr = strings.TrimSpace(cidr); cidr == "" {
			continue
		}
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return nil, settingError("trusted-proxies", "%q is not a CIDR range such as 10.0.0.0/8", cidr)
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, settingError("tls-key", "give both --tls-cert and --tls-key, or neither")
	}
	for _, f := range []string{"tls-cert", "tls-key"} {
		if raw[f] != "" {
			if _, err := os.Stat(raw[f]); err != nil {
				return nil, settingError(f, "cannot read %s", raw[f])
			}
		}
	}
	if err := c.loadSSO(raw); err != nil {
		return nil, err
	}
	if err := c.LogLevel.UnmarshalText([]byte(raw["log-level"])); err != nil {
		return nil, settingError("log-level", "%q is not one of debug, info, warn, error", raw["log-level"])
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return nil, settingError("log-format", "%q is not text or json", c.LogFormat)
	}
	return c, nil
}

// loadSSO reads the organisation sign-in settings. The issuer is https, or http on
// loopback only (a test provider): id tokens and the client secret travel to it.
func (c *Config) loadSSO(raw map[string]string) error {
	c.SSOIssuer, c.SSOClientID, c.SSOClientSecret = raw["sso-issuer"], raw["sso-client-id"], raw["sso-client-secret"]
	var err error
	if c.SSOPasswordsOff, err = strconv.ParseBool(raw["sso-passwords-off"]); err != nil {
		return settingError("sso-passwords-off", "%q is not true or false", raw["sso-passwords-off"])
	}
	for _, d := range strings.Split(raw["sso-domains"], ",") {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		if d == "" {
			continue
		}
		if strings.ContainsAny(d, "@/: ") || !strings.Contains(d, ".") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
			return settingError("sso-domains", "%q is not an email domain such as nhs.net", d)
		}
		c.SSODomains = append(c.SSODomains, d)
	}
	if c.SSOIssuer == "" {
		for _, name := range []string{"sso-client-id", "sso-client-secret", "sso-domains"} {
			if raw[name] != "" {
				return settingError(name, "is set but --sso-issuer is not")
			}
		}
		if c.SSOPasswordsOff {
			return settingError("sso-passwords-off", "needs --sso-issuer and --sso-domains")
		}
		return nil
	}
	u, err := url.Parse(c.SSOIssuer)
	loopback := false
	if err == nil {
		ip := net.ParseIP(u.Hostname())
		loopback = u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())
	}
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback)) {
		return settingError("sso-issuer", "%q is not an https:// issuer URL (http:// is allowed on loopback only)", c.SSOIssuer)
	}
	if c.SSOClientID == "" {
		return settingError("sso-client-id", "is required when --sso-issuer is set")
	}
	if c.SSOClientSecret == "" {
		return settingError("sso-client-secret", "is required when --sso-issuer is set")
	}
	if c.SSOPasswordsOff && len(c.SSODomains) == 0 {
		return settingError("sso-passwords-off", "needs --sso-domains, the addresses whose passwords are turned off")
	}
	return nil
}

// loadMail checks the SMTP settings: a usable host and port, a TLS mode (plain text only to
// this machine), both or neither of user and password, and the sender's address.
func (c *Config) loadMail(raw map[string]string) error {
	c.SMTPTLS = mail.TLSMode(strings.ToLower(raw["smtp-tls"]))
	switch c.SMTPTLS {
	case mail.STARTTLS, mail.ImplicitTLS, mail.NoTLS:
	default:
		return settingError("smtp-tls", "%q is not one of starttls, tls, none", raw["smtp-tls"])
	}
	c.SMTPPort = c.SMTPTLS.DefaultPort()
	if p := raw["smtp-port"]; p != "" {
		v, err := strconv.Atoi(p)
		if err != nil || v < 1 || v > 65535 {
			return settingError("smtp-port", "%q is not a port number from 1 to 65535", p)
		}
		c.SMTPPort = v
	}
	if c.SMTPHost == "" {
		return nil
	}
	if strings.ContainsAny(c.SMTPHost, "/@ ") || (strings.Contains(c.SMTPHost, ":") && net.ParseIP(c.SMTPHost) == nil) {
		return settingError("smtp-host", "%q is not a host name or address (give the port as --smtp-port)", c.SMTPHost)
	}
	if c.SMTPTLS == mail.NoTLS && !mail.Loopback(c.SMTPHost) {
		return settingError("smtp-tls", "none sends in plain text, so only to a loopback host (127.0.0.1, ::1, localhost), not %s", c.SMTPHost)
	}
	if c.SMTPUser != "" && c.SMTPPassword == "" {
		return settingError("smtp-password", "is required with --smtp-user")
	}
	if c.SMTPUser == "" && c.SMTPPassword != "" {
		return settingError("smtp-user", "is required with --smtp-password")
	}
	if c.MailFrom == "" {
		return settingError("mail-from", "is required with --smtp-host")
	}
	if _, err := netmail.ParseAddress(c.MailFrom); err != nil {
		return settingError("mail-from", "%q is not an address or \"Name <address>\"", c.MailFrom)
	}
	if c.MailReplyTo != "" {
		if _, err := netmail.ParseAddress(c.MailReplyTo); err != nil {
			return settingError("mail-reply-to", "%q is not an address or \"Name <address>\"", c.MailReplyTo)
		}
	}
	return nil
}

// mailConfig is the email queue's configuration: the SMTP settings, and the Your account
// page the emails link to.
func (c *Config) mailConfig(log *slog.Logger) mail.Config {
	return mail.Config{Host: c.SMTPHost, Port: c.SMTPPort, TLS: c.SMTPTLS, User: c.SMTPUser, Password: c.SMTPPassword,
		From: c.MailFrom, ReplyTo: c.MailReplyTo, PublicURL: c.PublicURL.String(), Logger: log}
}

// fontFolder reads the fonts setting: nhsuk, none, or the address of a folder.
func fontFolder(v string) (string, error) {
	switch strings.ToLower(v) {
	case "nhsuk":
		return server.NHSUKFonts, nil
	case "none":
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", settingError("fonts", "%q is not nhsuk, none or the http(s) address of a folder of font files", v)
	}
	return v, nil
}

// DBDir is where the embedded database keeps its files.
func (c *Config) DBDir() string { return filepath.Join(c.Data, "db") }

// MediaDir is where local media is kept.
func (c *Config) MediaDir() string { return filepath.Join(c.Data, "media") }

// print writes the effective settings, secrets redacted, with where each came from.
func (c *Config) print(w io.Writer, getenv func(string) string, flags map[string]*string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tENVIRONMENT\tVALUE\tFROM")
	for _, s := range settings {
		v := c.raw[s.flag]
		from := "default"
		switch {
		case flags[s.flag] != nil && *flags[s.flag] != "":
			from = "flag"
		case getenv(s.env) != "":
			from = "environment"
		}
		switch {
		case s.secret && v != "" && s.flag == "mongodb-uri":
			v = database.Redact(v)
		case s.secret && v != "":
			v = "(set, hidden)"
		case v == "" && s.flag == "public-url":
			v = c.PublicURL.String()
		case v == "":
			v = "(not set)"
		}
		fmt.Fprintf(tw, "--%s\t%s\t%s\t%s\n", s.flag, s.env, v, from)
	}
	tw.Flush()
}

func (c *Config) logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
