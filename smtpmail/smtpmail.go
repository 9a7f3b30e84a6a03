// Package smtpmail sends Gatehouse's mail through an SMTP server, with
// STARTTLS or implicit TLS and authentication, on
// github.com/wneessen/go-mail. Plug it in with [auth.WithMailer]:
//
//	m, err := smtpmail.FromURL("smtp://user:pass@smtp.example.com:587", "Example <no-reply@example.com>")
//	a, err := auth.New(store, auth.WithMailer(m), auth.WithPublicURL("https://app.example.com"), ...)
//
// The root package does not import this one, so an application that sends
// no mail, or sends it another way, does not build go-mail in.
package smtpmail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/gatehouse/auth"
)

// Security says how the connection to the server is protected.
type Security int

const (
	// StartTLS connects in plain text and upgrades with STARTTLS, which
	// the server must offer (usually port 587). It is the default.
	StartTLS Security = iota
	// ImplicitTLS speaks TLS from the first byte (usually port 465).
	ImplicitTLS
	// Plain sends in clear text, credentials included. Use it only for a
	// server on the same host or a test server such as Mailpit.
	Plain
)

// Config describes an SMTP server.
type Config struct {
	// Host and Port are the server's address. Port defaults to 587 for
	// StartTLS, 465 for ImplicitTLS and 25 for Plain.
	Host string
	Port int
	// Username and Password authenticate (SMTP AUTH PLAIN, or the best
	// mechanism the server offers with AutoAuth). Empty: no authentication.
	Username, Password string
	// From is the sender, such as "Example <no-reply@example.com>".
	From string
	// Security defaults to StartTLS.
	Security Security
	// TLSConfig overrides the TLS settings (by default the system roots
	// and ServerName Host).
	TLSConfig *tls.Config
	// Timeout bounds connecting and each command. Defaults to 15 seconds;
	// the context of Send ends it sooner.
	Timeout time.Duration
}

// Mailer is an [auth.Mailer] that sends through one SMTP server. It is safe
// for concurrent use: each Send opens its own connection.
type Mailer struct {
	cfg  Config
	from string
}

var _ auth.Mailer = (*Mailer)(nil)

// Errors of this package.
var (
	// ErrConfig is returned by New and FromURL for a configuration they
	// cannot use.
	ErrConfig = errors.New("smtpmail: invalid configuration")
)

// New returns a Mailer for cfg. It does not connect.
func New(cfg Config) (*Mailer, error) {
	if cfg.Host == "" {
		return nil, fmt.Errorf("%w: no host", ErrConfig)
	}
	if cfg.Port == 0 {
		cfg.Port = map[Security]int{StartTLS: 587, ImplicitTLS: 465, Plain: 25}[cfg.Security]
	}
	if cfg.Port < 1 || cfg.Port > 65535 || cfg.Security < StartTLS || cfg.Security > Plain {
		return nil, fmt.Errorf("%w: port %d, security %d", ErrConfig, cfg.Port, cfg.Security)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("%w: sender %q: %v", ErrConfig, cfg.From, err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	return &Mailer{cfg: cfg, from: from.String()}, nil
}

// FromURL returns a Mailer for a server given as a URL:
//
//	smtp://user:pass@host:587     STARTTLS (required), then AUTH
//	smtps://user:pass@host:465    implicit TLS
//	smtp://host:1025?tls=none     clear text, for a local test server
//
// User name and password are URL-encoded. from is the sender.
func FromURL(rawURL, from string) (*Mailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot parse the server URL", ErrConfig)
	}
	cfg := Config{Host: u.Hostname(), From: from}
	switch u.Scheme {
	case "smtp":
		cfg.Security = StartTLS
	case "smtps":
		cfg.Security = ImplicitTLS
	default:
		return nil, fmt.Errorf("%w: scheme %q, want smtp or smtps", ErrConfig, u.Scheme)
	}
	switch u.Query().Get("tls") {
	case "":
	case "none":
		if u.Scheme != "smtp" {
			return nil, fmt.Errorf("%w: tls=none needs the smtp scheme", ErrConfig)
		}
		cfg.Security = Plain
	default:
		return nil, fmt.Errorf("%w: tls=%q, want none or nothing", ErrConfig, u.Query().Get("tls"))
	}
	if p := u.Port(); p != "" {
		if cfg.Port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("%w: port %q", ErrConfig, p)
		}
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	return New(cfg)
}

// Send sends m. Its error names the server's answer, never the password.
func (s *Mailer) Send(ctx context.Context, m auth.Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("smtpmail: sender: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("smtpmail: recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	c, err := gomail.NewClient(s.cfg.Host, s.options()...)
	if err != nil {
		return fmt.Errorf("smtpmail: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtpmail: send to %s: %w", net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port)), err)
	}
	return nil
}

func (s *Mailer) options() []gomail.Option {
	c := s.cfg
	opts := []gomail.Option{gomail.WithPort(c.Port), gomail.WithTimeout(c.Timeout)}
	switch c.Security {
	case StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case Plain:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if c.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(c.TLSConfig))
	} else if c.Security != Plain {
		opts = append(opts, gomail.WithTLSConfig(&tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}))
	}
	if c.Username != "" {
		mech := gomail.SMTPAuthPlain // go-mail sends it only over TLS
		if c.Security == Plain {
			mech = gomail.SMTPAuthPlainNoEnc // the caller chose clear text
		}
		opts = append(opts, gomail.WithSMTPAuth(mech), gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	return opts
}
