package sqlstore_test

import (
	"testing"

	"github.com/gatehouse/auth"
	"github.com/gatehouse/auth/storetest"
)

func TestConformance(t *testing.T) {
	forEachDialect(t, func(t *testing.T, tdb *testDB) {
		storetest.Run(t, func(t *testing.T) auth.UserStore {
			return newStore(t, tdb.db)
		})
	})
}
