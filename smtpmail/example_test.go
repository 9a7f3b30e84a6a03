package smtpmail_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/memstore"
	"github.com/gatehouse/auth/smtpmail"
)

// Example sends Gatehouse's mail through a production SMTP server, over
// STARTTLS on port 587 with a password from the environment.
func Example() {
	mailer, err := smtpmail.New(smtpmail.Config{
		Host:     "smtp.example.com",
		Port:     587,
		Security: smtpmail.StartTLS,
		Username: "gatehouse",
		Password: os.Getenv("SMTP_PASSWORD"),
		From:     "Example <no-reply@example.com>",
	})
	if err != nil {
		log.Fatal(err)
	}
	a, err := auth.New(memstore.New(),
		auth.WithSecret([]byte(os.Getenv("JWT_SECRET_KEY"))),
		auth.WithMailer(mailer),
		auth.WithPublicURL("https://app.example.com"),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := a.StartMail(); err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: ":8080", Handler: a.Handler()}
	go func() { _ = srv.ListenAndServe() }()

	// On shutdown: stop taking requests first, then send what is queued.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	_ = a.Shutdown(ctx)
}
