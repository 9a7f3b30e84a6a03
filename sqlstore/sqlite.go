package sqlstore

import "strings"

// SQLiteDSN returns a modernc.org/sqlite data source name for the database
// file at path, with the settings Gatehouse recommends:
//
//   - busy_timeout(5000): wait up to 5 s for a lock instead of failing at
//     once. It comes first so that the settings below wait too.
//   - journal_mode(WAL): readers and the one writer do not block each other.
//   - synchronous(FULL): every commit is synced to disk. NORMAL would be
//     enough to survive a killed process, but in WAL mode it can lose the
//     last commits on power loss or an OS crash, and losing a password
//     change or a disabled flag reopens the account to the old password or
//     the old tokens. Auth writes are few and argon2 costs far more than a
//     sync, so FULL is cheap here.
//   - foreign_keys(1): enforce references, for application tables that
//     point at users.
//   - _txlock=immediate: transactions begun through database/sql take the
//     write lock at BEGIN. A deferred transaction that reads and then
//     writes can fail with SQLITE_BUSY at once, without waiting, when
//     another connection wrote in between.
//
// The path is a file name, relative or absolute; characters that are
// special in a URI are escaped. Open it with
//
//	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN("auth.db"))
//
// See the package documentation for connection pool settings.
func SQLiteDSN(path string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + esc +
		"?_pragma=busy_timeout(5000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(1)" +
		"&_txlock=immediate"
}
