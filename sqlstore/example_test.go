package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/sqlstore"
)

func Example() {
	dir, err := os.MkdirTemp("", "gatehouse-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "auth.db")))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(4)

	store, err := sqlstore.New(db) // the dialect is detected from the driver
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	// Normally the Authenticator calls the store; here it is called directly.
	now := time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)
	u := &auth.User{Username: "alice", PasswordHash: "$argon2id$...", CreatedAt: now, UpdatedAt: now}
	if err := store.CreateUser(ctx, u); err != nil {
		log.Fatal(err)
	}
	err = store.CreateUser(ctx, &auth.User{Username: "alice", CreatedAt: now, UpdatedAt: now})
	fmt.Println("duplicate:", errors.Is(err, auth.ErrUserExists))

	got, err := store.UserByUsername(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Username, got.CreatedAt)
	// Output:
	// duplicate: true
	// alice 2026-03-14 15:09:26.535897 +0000 UTC
}
