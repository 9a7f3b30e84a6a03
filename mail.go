package auth

import (
	"context"
	"errors"
	htmltemplate "html/template"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	texttemplate "text/template"
	"time"
)

// Message is one mail. The Authenticator renders it from a [MailTemplate];
// a [Mailer] sends it.
type Message struct {
	// Kind says what the mail is for.
	Kind MailKind
	// To is the recipient's address as the user gave it. It has passed
	// [CanonicalEmail]'s checks, so it holds no CR, LF or display name.
	To string
	// Subject is the subject line, with no line breaks.
	Subject string
	// Text is the plain-text body; HTML, when not empty, the HTML
	// alternative.
	Text string
	HTML string
}

// Mailer sends mail. The Authenticator calls Send from the workers of its
// mail queue (see [Authenticator.StartMail]), never on a request's path,
// and retries a failed Send (see [WithMailQueue]); an error is logged and
// never changes an HTTP answer. Send must honour ctx and be safe for
// concurrent use. Package smtpmail sends through an SMTP server.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// MailerFunc is a function that is a [Mailer], handy for tests and for
// logging mail in development.
type MailerFunc func(ctx context.Context, m Message) error

// Send calls f.
func (f MailerFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

// MailKind names a kind of mail. The kinds that carry a link also name the
// purpose of its one-time token.
type MailKind string

// The kinds of mail.
const (
	// MailVerifyEmail carries a link that proves the user receives mail at
	// the address (POST /auth/verify).
	MailVerifyEmail MailKind = "verify_email"
	// MailResetPassword carries a link to set a new password
	// (POST /auth/reset-password).
	MailResetPassword MailKind = "reset_password"
	// MailChangeEmail goes to a new address and carries a link that makes
	// it the user's (POST /auth/verify).
	MailChangeEmail MailKind = "change_email"
	// MailEmailChangeNotice goes to the old address when a change was
	// asked for. It carries no link.
	MailEmailChangeNotice MailKind = "email_change_notice"
	// MailMagicLink carries a link that signs the user in
	// (POST /auth/magic-link/verify).
	MailMagicLink MailKind = "magic_link"
)

// hasToken reports whether mail of this kind carries a one-time token.
func (k MailKind) hasToken() bool {
	return k == MailVerifyEmail || k == MailResetPassword || k == MailChangeEmail || k == MailMagicLink
}

func (k MailKind) known() bool { return k.hasToken() || k == MailEmailChangeNotice }

// linkPath is the path, under the public URL, that a link of this kind
// points to.
func (k MailKind) linkPath() string {
	switch k {
	case MailResetPassword:
		return "/reset-password"
	case MailMagicLink:
		return "/magic-link"
	}
	return "/verify-email"
}

// MailTemplate is how one kind of mail reads. Replace the defaults with
// [WithMailTemplate].
type MailTemplate struct {
	// Subject is the subject line, as it is: no template.
	Subject string
	// Text renders the plain-text body; it is required.
	Text *texttemplate.Template
	// HTML renders the HTML alternative; nil sends text only.
	HTML *htmltemplate.Template
}

// MailData is what a [MailTemplate] is executed with.
type MailData struct {
	// Kind is the kind of mail.
	Kind MailKind
	// To is the recipient's address.
	To string
	// Username is the user's canonical username.
	Username string
	// Link is the public URL, the path for the kind and the token as the
	// "token" query parameter; empty for a notice.
	Link string
	// Token is the one-time token alone, for templates that build links
	// of their own; empty for a notice.
	Token string
	// PublicURL is the URL given to [WithPublicURL].
	PublicURL string
	// ExpiresIn says how long the link works, such as "30 minutes".
	ExpiresIn string
	// NewEmail is the address asked for, in an email change notice.
	NewEmail string
}

// MailQueue sizes the mail queue; see [WithMailQueue].
type MailQueue struct {
	// Size is how many mails may wait. A mail that finds the queue full is
	// dropped and logged; the request is answered as usual.
	Size int
	// Workers is how many mails are sent at once.
	Workers int
	// Attempts is how many times a mail is tried before it is given up
	// and logged.
	Attempts int
	// Backoff is the wait before the second attempt; it doubles with each
	// further one.
	Backoff time.Duration
}

var defaultTemplates = map[MailKind]MailTemplate{
	MailVerifyEmail: {
		Subject: "Confirm your email address",
		Text: texttemplate.Must(texttemplate.New("").Parse(
			"Hello {{.Username}},\n\nConfirm that {{.To}} is your address by opening this link:\n\n{{.Link}}\n\n" +
				"It works once, for {{.ExpiresIn}}. If you did not ask for this, ignore this mail.\n")),
		HTML: htmltemplate.Must(htmltemplate.New("").Parse(
			`<p>Hello {{.Username}},</p><p>Confirm that {{.To}} is your address:</p>` +
				`<p><a href="{{.Link}}">Confirm my address</a></p>` +
				`<p>The link works once, for {{.ExpiresIn}}. If you did not ask for this, ignore this mail.</p>`)),
	},
	MailResetPassword: {
		Subject: "Reset your password",
		Text: texttemplate.Must(texttemplate.New("").Parse(
			"Hello {{.Username}},\n\nSomeone asked to reset the password of your account. To choose a new one, open this link:\n\n{{.Link}}\n\n" +
				"It works once, for {{.ExpiresIn}}. If it was not you, ignore this mail: your password stays as it is.\n")),
		HTML: htmltemplate.Must(htmltemplate.New("").Parse(
			`<p>Hello {{.Username}},</p><p>Someone asked to reset the password of your account.</p>` +
				`<p><a href="{{.Link}}">Choose a new password</a></p>` +
				`<p>The link works once, for {{.ExpiresIn}}. If it was not you, ignore this mail: your password stays as it is.</p>`)),
	},
	MailChangeEmail: {
		Subject: "Confirm your new email address",
		Text: texttemplate.Must(texttemplate.New("").Parse(
			"Hello {{.Username}},\n\nTo make {{.To}} the address of your account, open this link:\n\n{{.Link}}\n\n" +
				"It works once, for {{.ExpiresIn}}. If you did not ask for this, ignore this mail.\n")),
		HTML: htmltemplate.Must(htmltemplate.New("").Parse(
			`<p>Hello {{.Username}},</p><p>To make {{.To}} the address of your account:</p>` +
				`<p><a href="{{.Link}}">Confirm my new address</a></p>` +
				`<p>The link works once, for {{.ExpiresIn}}. If you did not ask for this, ignore this mail.</p>`)),
	},
	MailEmailChangeNotice: {
		Subject: "Your email address is being changed",
		Text: texttemplate.Must(texttemplate.New("").Parse(
			"Hello {{.Username}},\n\nSomeone signed in to your account asked to change its address from {{.To}} to {{.NewEmail}}. " +
				"The change happens only once the new address is confirmed.\n\nIf it was not you, change your password now.\n")),
		HTML: htmltemplate.Must(htmltemplate.New("").Parse(
			`<p>Hello {{.Username}},</p><p>Someone signed in to your account asked to change its address from {{.To}} to {{.NewEmail}}. ` +
				`The change happens only once the new address is confirmed.</p><p>If it was not you, change your password now.</p>`)),
	},
	MailMagicLink: {
		Subject: "Your sign-in link",
		Text: texttemplate.Must(texttemplate.New("").Parse(
			"Hello {{.Username}},\n\nTo sign in, open this link:\n\n{{.Link}}\n\n" +
				"It works once, for {{.ExpiresIn}}. If you did not ask for it, ignore this mail.\n")),
		HTML: htmltemplate.Must(htmltemplate.New("").Parse(
			`<p>Hello {{.Username}},</p><p><a href="{{.Link}}">Sign in</a></p>` +
				`<p>The link works once, for {{.ExpiresIn}}. If you did not ask for it, ignore this mail.</p>`)),
	},
}

// render executes the template of d.Kind.
func (m *mailFlows) render(d MailData) (Message, error) {
	t, ok := m.templates[d.Kind]
	if !ok {
		t = defaultTemplates[d.Kind]
	}
	msg := Message{Kind: d.Kind, To: d.To, Subject: strings.Join(strings.Fields(t.Subject), " ")}
	var b strings.Builder
	if err := t.Text.Execute(&b, d); err != nil {
		return Message{}, err
	}
	msg.Text = b.String()
	if t.HTML != nil {
		b.Reset()
		if err := t.HTML.Execute(&b, d); err != nil {
			return Message{}, err
		}
		msg.HTML = b.String()
	}
	return msg, nil
}

// mailJob is work for the mail queue: it turns a request into a mail, or
// into nothing (an address that belongs to no one).
type mailJob func(ctx context.Context)

// mailQueue runs mail jobs on a fixed number of workers. Jobs wait in a
// bounded channel; one that finds it full is dropped.
type mailQueue struct {
	opts MailQueue
	log  func() *slog.Logger

	mu      sync.RWMutex // guards jobs against a send after close
	jobs    chan mailJob
	started bool
	closed  bool
	warned  atomic.Bool

	workers sync.WaitGroup
	pending sync.WaitGroup // jobs queued or running
	cancel  context.CancelFunc
	ctx     context.Context

	enqueued, dropped atomic.Int64
}

func newMailQueue(opts MailQueue, log func() *slog.Logger) *mailQueue {
	ctx, cancel := context.WithCancel(context.Background())
	return &mailQueue{opts: opts, log: log, jobs: make(chan mailJob, opts.Size), ctx: ctx, cancel: cancel}
}

// errQueueClosed is returned by StartMail after Shutdown.
var errQueueClosed = errors.New("auth: the mail queue was shut down")

// start starts the workers once.
func (q *mailQueue) start() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errQueueClosed
	}
	if q.started {
		return nil
	}
	q.started = true
	for range q.opts.Workers {
		q.workers.Add(1)
		go func() {
			defer q.workers.Done()
			for job := range q.jobs {
				if q.ctx.Err() == nil {
					job(q.ctx)
				}
				q.pending.Done()
			}
		}()
	}
	return nil
}

// enqueue queues job without waiting. It reports false, and logs, when the
// queue is full or shut down.
func (q *mailQueue) enqueue(ctx context.Context, job mailJob) bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if !q.started && q.warned.CompareAndSwap(false, true) {
		q.log().LogAttrs(ctx, slog.LevelWarn, "auth: mail is queued but the queue was not started; call Authenticator.StartMail")
	}
	if q.closed {
		q.dropped.Add(1)
		q.log().LogAttrs(ctx, slog.LevelError, "auth: mail dropped: the queue was shut down")
		return false
	}
	q.pending.Add(1)
	select {
	case q.jobs <- job:
		q.enqueued.Add(1)
		return true
	default:
		q.pending.Done()
		q.dropped.Add(1)
		q.log().LogAttrs(ctx, slog.LevelError, "auth: mail dropped: the queue is full", slog.Int("size", q.opts.Size))
		return false
	}
}

// shutdown stops taking jobs, lets the workers finish the queued ones, and
// returns when they have or when ctx ends; then it abandons the rest.
func (q *mailQueue) shutdown(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.jobs)
	}
	started := q.started
	q.mu.Unlock()
	if !started {
		q.cancel()
		return nil
	}
	done := make(chan struct{})
	go func() { q.workers.Wait(); close(done) }()
	select {
	case <-done:
		q.cancel()
		return nil
	case <-ctx.Done():
		q.cancel() // retries and sends in flight end now
		<-done
		return ctx.Err()
	}
}

// send delivers msg, trying up to the configured number of times with a
// doubling wait between tries. A failure is logged, never returned: the
// request that caused the mail was answered long ago.
func (m *mailFlows) send(ctx context.Context, msg Message, userID string) {
	wait := m.queue.opts.Backoff
	var err error
	for attempt := 1; attempt <= m.queue.opts.Attempts; attempt++ {
		if err = m.mailer.Send(ctx, msg); err == nil {
			return
		}
		if attempt == m.queue.opts.Attempts || ctx.Err() != nil {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		wait *= 2
	}
	m.a.failureLog().LogAttrs(ctx, slog.LevelError, "auth: sending mail failed",
		slog.String("kind", string(msg.Kind)), slog.String("user_id", userID), slog.String("error", err.Error()))
}

// StartMail starts the workers that send mail (see [WithMailer] and
// [WithMailQueue]): the only goroutines the Authenticator runs on its own.
// Call it once before serving, and [Authenticator.Shutdown] when done.
// Without a mailer it does nothing. It fails after Shutdown.
func (a *Authenticator) StartMail() error {
	if a.mail == nil || a.mail.queue == nil {
		return nil
	}
	return a.mail.queue.start()
}

// Shutdown stops taking mail, sends what is queued and returns when that
// is done, or when ctx ends, whichever is first; mail still queued then is
// dropped. Call it after the HTTP server has shut down, so that no request
// queues mail after it. It returns ctx's error when ctx ended first.
func (a *Authenticator) Shutdown(ctx context.Context) error {
	if a.mail == nil || a.mail.queue == nil {
		return nil
	}
	return a.mail.queue.shutdown(ctx)
}
