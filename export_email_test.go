package auth

// Test-only access to the mail queue (issue 13), for the black-box tests.

// WaitMail waits until every queued mail job has run. Call it only while
// no request is queuing mail.
func WaitMail(a *Authenticator) {
	if a.mail != nil {
		a.mail.queue.pending.Wait()
	}
}

// MailQueueCounts returns how many jobs a's mail queue took and dropped.
func MailQueueCounts(a *Authenticator) (enqueued, dropped int64) {
	return a.mail.queue.enqueued.Load(), a.mail.queue.dropped.Load()
}

// MailQueueLen returns how many jobs wait in a's mail queue.
func MailQueueLen(a *Authenticator) int { return len(a.mail.queue.jobs) }

// MailQueueCap returns the capacity of a's mail queue.
func MailQueueCap(a *Authenticator) int { return cap(a.mail.queue.jobs) }
