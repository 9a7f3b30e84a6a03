package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a log sink that the server and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDevelopmentModeLogsMail: without -smtp, each mail, link included,
// goes to the log, marked as development mode; the link opens the demo
// page.
func TestDevelopmentModeLogsMail(t *testing.T) {
	c, err := parseConfig([]string{"-addr", "127.0.0.1:0", "-db", "memory"}, env(nil), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var log lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, c, io.Discard, slog.New(slog.NewTextHandler(&log, nil)), ready) }()
	base := "http://" + <-ready
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	resp, err := http.Post(base+"/auth/register", "application/json",
		strings.NewReader(`{"username":"dev","password":"password-1","email":"dev@example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	want := base + "/verify-email?token=ve_"
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(log.String(), want); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no link %s in the log:\n%s", want, log.String())
		}
	}
	if !strings.Contains(log.String(), "DEVELOPMENT MODE: mail not sent") {
		t.Errorf("the log does not say development mode:\n%s", log.String())
	}
	page, err := http.Get(base + "/verify-email?token=x")
	if err != nil {
		t.Fatal(err)
	}
	defer page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Errorf("the link's page: %d %s", page.StatusCode, page.Header.Get("Content-Type"))
	}
}

func TestBadSMTPFlag(t *testing.T) {
	for _, v := range []string{"http://mail.example.com", "smtp://h?tls=maybe"} {
		err := runArgs(context.Background(), []string{"-addr", "127.0.0.1:0", "-db", "memory", "-smtp", v}, env(nil), nil)
		if err == nil || !strings.Contains(err.Error(), "-smtp") {
			t.Errorf("-smtp %s: %v", v, err)
		}
	}
}
