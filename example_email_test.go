package auth_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
)

// outbox is a Mailer that keeps mail in memory, as tests do. In production,
// pass an SMTP mailer from package smtpmail.
type outbox struct {
	mu   sync.Mutex
	mail []auth.Message
}

func (o *outbox) Send(_ context.Context, m auth.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.mail = append(o.mail, m)
	return nil
}

// Example_passwordReset wires mail and walks through a forgotten password:
// the request, the mailed link, the reset.
func Example_passwordReset() {
	mailer := &outbox{}
	a, err := auth.New(memstore.New(),
		auth.WithSecret(secret),
		auth.WithMailer(mailer),
		auth.WithPublicURL("https://app.example.com"),
		auth.WithMagicLinks(),
	)
	if err != nil {
		log.Fatal(err)
	}
	// The mail queue's workers are the only goroutines Gatehouse runs:
	// start them, and drain the queue when the server stops.
	if err := a.StartMail(); err != nil {
		log.Fatal(err)
	}
	defer a.Shutdown(context.Background())

	ctx := context.Background()
	if _, err := a.RegisterWithEmail(ctx, "alice", "unusual-passphrase-42", "Alice@Example.com"); err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	// POST /auth/forgot-password answers 202 whether or not the address
	// is anyone's; the mail goes out from the queue.
	res, err := http.Post(srv.URL+"/auth/forgot-password", "application/json",
		strings.NewReader(`{"email":"alice@example.com"}`))
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	fmt.Println("forgot-password:", res.StatusCode)

	// The link in the mail carries the token; the page it opens posts it
	// with the new password.
	link := waitForLink(mailer, "Reset your password")
	fmt.Println(link[:len("https://app.example.com/reset-password?token=rp_")])
	token := link[strings.Index(link, "token=")+len("token="):]
	res, err = http.Post(srv.URL+"/auth/reset-password", "application/json",
		strings.NewReader(`{"token":"`+token+`","password":"another-passphrase-43"}`))
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	fmt.Println("reset-password:", res.StatusCode)
	// Output:
	// forgot-password: 202
	// https://app.example.com/reset-password?token=rp_
	// reset-password: 204
}

// waitForLink returns the link of the first mail with subject.
func waitForLink(o *outbox, subject string) string {
	link := regexp.MustCompile(`https://\S+\?token=\S+`)
	for range 500 {
		o.mu.Lock()
		for _, m := range o.mail {
			if m.Subject == subject {
				o.mu.Unlock()
				return link.FindString(m.Text)
			}
		}
		o.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	log.Fatal("no mail")
	return ""
}
