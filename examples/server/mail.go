package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/smtpmail"
)

// mailConfig is what the mail flags say.
type mailConfig struct {
	smtp      string // smtp://user:pass@host:port; "" logs mail instead
	from      string
	publicURL string // "" uses the issuer
}

// mailFlags defines -smtp, -mail-from and -public-url.
func mailFlags(fl *flag.FlagSet, c *mailConfig) {
	fl.StringVar(&c.smtp, "smtp", "", `SMTP server for mail: smtp://user:pass@host:587 (STARTTLS), smtps://user:pass@host:465,
or smtp://127.0.0.1:1025?tls=none for a local test server such as Mailpit. Without it,
every mail, link included, is written to the log instead (development mode)`)
	fl.StringVar(&c.from, "mail-from", "Gatehouse <no-reply@localhost>", "sender of mail")
	fl.StringVar(&c.publicURL, "public-url", "", "where the links in mail point: the URL this server is reached at (default: the issuer)")
}

// mailOptions returns the options that send mail, or log it in
// development mode, and turn magic links on.
func mailOptions(c *mailConfig, issuer string, logger *slog.Logger) ([]auth.Option, error) {
	public := c.publicURL
	if public == "" {
		public = issuer
	}
	var m auth.Mailer
	if c.smtp == "" {
		logger.Warn("DEVELOPMENT MODE: no -smtp; mail is written to this log, not sent")
		m = auth.MailerFunc(func(ctx context.Context, msg auth.Message) error {
			logger.Info("DEVELOPMENT MODE: mail not sent", "kind", msg.Kind, "to", msg.To, "subject", msg.Subject, "text", msg.Text)
			return nil
		})
	} else {
		sm, err := smtpmail.FromURL(c.smtp, c.from)
		if err != nil {
			return nil, fmt.Errorf("-smtp: %w", err)
		}
		u, _ := url.Parse(c.smtp)
		logger.Info("mail", "server", u.Host, "from", c.from, "links", public)
		m = sm
	}
	return []auth.Option{auth.WithMailer(m), auth.WithPublicURL(public), auth.WithMagicLinks()}, nil
}

// mailPages serves the demo page at the paths of the links in mail; its
// script reads the token from the query.
func mailPages(mux *http.ServeMux) {
	for _, path := range []string{"/verify-email", "/reset-password", "/magic-link"} {
		mux.HandleFunc("GET "+path, servePage)
	}
}

// stopMail sends what is queued, for at most d.
func stopMail(a *auth.Authenticator, d time.Duration, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		logger.Warn("mail still queued at shutdown was dropped", "error", err)
	}
}
